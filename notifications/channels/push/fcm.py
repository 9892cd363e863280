"""Firebase Cloud Messaging, HTTP v1: ``POST {FCM_API_URL}/v1/projects/{project}/messages:send``
with one message per device token, authorised with the service account's access token
(``fcm_auth``).

FCM's answers, as its documentation classifies them (``error.details[].errorCode``):

- 200: taken; its ``name`` (``projects/…/messages/…``) is the provider id;
- 400 ``INVALID_ARGUMENT``: the message itself is refused: permanent;
- 404 ``UNREGISTERED``, 403 ``SENDER_ID_MISMATCH``: the token is gone or belongs to another
  Firebase project: permanent, and the device is deactivated;
- 401: our access token refused: renewed once and the message sent again, then temporary;
- 429 ``QUOTA_EXCEEDED``, 500 ``INTERNAL``, 503 ``UNAVAILABLE``: temporary. A ``Retry-After``
  is honoured: this process sends nothing more to FCM until then, and the message is sent
  again after it when that is soon (``INLINE_WAIT_SECONDS``), otherwise left to the
  pipeline's back-off;
- no answer after the request was written: ``OutcomeUnknown``. FCM v1 takes no idempotency
  key and has no status API, so such a delivery waits for an operator (the admin's
  actions for unknown deliveries) rather than risking a second reminder.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings

from ..base import PushTarget, TransportError
from ..http import HttpService, ProviderAnswer, ProviderRequest, exchange
from . import fcm_auth

# The longest Retry-After waited out in the worker before sending again; a longer one
# hands the message back to the pipeline's back-off rather than holding a thread.
INLINE_WAIT_SECONDS = 10.0
GONE_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


class RegistrationGone(TransportError):
    """FCM no longer knows the token (the app was uninstalled, the token rotated) or it
    belongs to another sender: the device is deactivated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


class _QuietPeriod:
    """When FCM asked this process to wait (Retry-After), shared by the send threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def extend(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - time.monotonic())

    def reset(self) -> None:
        with self._lock:
            self._until = 0.0


quiet_period = _QuietPeriod()


def retry_after_seconds(answer: ProviderAnswer) -> float | None:
    """``Retry-After`` as seconds (a number, or an HTTP date); None when absent or unreadable."""
    raw = answer.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_code(answer: ProviderAnswer) -> str:
    """FCM's ``errorCode`` (``UNREGISTERED``…), else the Google API ``status``."""
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    details = error.get("details")
    if isinstance(details, list):
        for detail in details:
            if isinstance(detail, dict) and detail.get("@type") == _FCM_ERROR_TYPE:
                return str(detail.get("errorCode", ""))[:40]
    return str(error.get("status", ""))[:40]


class Fcm(HttpService):
    name = "fcm"
    http2 = True  # fcm.googleapis.com speaks HTTP/2: a batch's sends share a connection

    def message(
        self, target: PushTarget, title: str, body: str, delivery_id: int
    ) -> dict[str, Any]:
        return {
            "message": {
                "token": target.token,
                "notification": {"title": title, "body": body},
                # FCM's data values are strings; ids only, never health details.
                "data": {"deliveryId": str(delivery_id)},
                "android": {"ttl": f"{settings.FCM_TTL_SECONDS}s", "priority": "high"},
            }
        }

    def send(self, target: PushTarget, title: str, body: str, delivery_id: int) -> str:
        """Push one message to one token; FCM's message name, or raise
        (``RegistrationGone`` for a token FCM no longer takes)."""
        path = settings.FCM_CREDENTIALS_FILE
        if not path:
            raise TransportError(
                "fcm not configured (FCM_CREDENTIALS_FILE is not set)", permanent=True
            )
        project = fcm_auth.project_id(path)
        url = f"{settings.FCM_API_URL.rstrip('/')}/v1/projects/{project}/messages:send"
        payload = self.message(target, title, body, delivery_id)
        refused_token = ""
        waited = False
        while True:
            self._wait_out_quiet_period()
            token = fcm_auth.access_token(path, refused=refused_token)
            answer = exchange(
                self,
                ProviderRequest(
                    "POST", url, headers={"Authorization": f"Bearer {token}"}, json=payload
                ),
            )
            if answer.status_code == 200:
                return self._message_name(answer)
            if answer.status_code == 401 and not refused_token:
                refused_token = token
                continue
            delay = retry_after_seconds(answer) if answer.status_code in (429, 500, 503) else None
            if delay is not None:
                quiet_period.extend(delay)
                if not waited and delay <= INLINE_WAIT_SECONDS:
                    waited = True
                    continue
            raise self.classify(answer)

    def classify(self, answer: ProviderAnswer) -> TransportError:
        code = error_code(answer)
        status = answer.status_code
        # Only FCM's own code: a bare 404 (a wrong project in the URL) is our configuration,
        # and must not deactivate every device it is tried with.
        if code in GONE_CODES:
            return RegistrationGone(f"fcm: {code}")
        if status == 400:
            return TransportError(f"fcm refused the message: {code or 'HTTP 400'}", permanent=True)
        return self.refusal(answer, code)

    def _message_name(self, answer: ProviderAnswer) -> str:
        body = answer.json()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            # 200 means FCM took it: a missing name costs us the id, not the message.
            return ""
        return name[:200]

    def _wait_out_quiet_period(self) -> None:
        remaining = quiet_period.remaining()
        if remaining <= 0:
            return
        if remaining > INLINE_WAIT_SECONDS:
            raise TransportError(
                f"fcm asked us to wait (Retry-After, {remaining:.0f}s left)", permanent=False
            )
        time.sleep(remaining)
