"""FCM's OAuth2 access token: a service-account JWT, signed with the key in
``FCM_CREDENTIALS_FILE`` and exchanged at the file's ``token_uri`` (Google's JWT bearer
grant), by google-auth over our pooled httpx client.

A token lasts an hour; one per process is kept and renewed when google-auth says it is
about to expire (a few minutes before), or when FCM refused it (``renewed_after``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from google.auth import exceptions as google_exceptions
from google.auth import transport as google_transport
from google.oauth2 import service_account

from ..base import TransportError
from ..http import shared_client

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class _Answer(google_transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(google_transport.Request):
    """google-auth's transport interface over the worker's shared httpx client."""

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> _Answer:
        try:
            response = shared_client().request(
                method, url, content=body, headers=dict(headers or {})
            )
        except httpx.HTTPError as error:
            raise google_exceptions.TransportError(type(error).__name__) from None
        return _Answer(response)


@dataclass
class _Account:
    credentials: service_account.Credentials
    lock: threading.Lock = field(default_factory=threading.Lock)


_accounts: dict[str, _Account] = {}
_accounts_pid = 0
_accounts_lock = threading.Lock()


def _account(path: str) -> _Account:
    global _accounts_pid
    with _accounts_lock:
        # A forked worker must not inherit a lock that its parent held at the fork.
        if _accounts_pid != os.getpid():
            _accounts.clear()
            _accounts_pid = os.getpid()
        account = _accounts.get(path)
        if account is None:
            try:
                credentials = service_account.Credentials.from_service_account_file(
                    path, scopes=[SCOPE]
                )
            except (OSError, ValueError) as error:
                raise TransportError(
                    f"fcm credentials file unusable: {type(error).__name__}", permanent=False
                ) from None
            account = _accounts[path] = _Account(credentials)
        return account


def project_id(path: str) -> str:
    return str(_account(path).credentials.project_id or "")


def access_token(path: str, *, refused: str = "") -> str:
    """A valid access token for the service account in ``path``. ``refused``: a token FCM
    just refused (401): renewed unless another thread has renewed it already, so that one
    refusal seen by many threads makes one token exchange, not one each."""
    account = _account(path)
    with account.lock:
        credentials = account.credentials
        stale = bool(refused) and credentials.token == refused
        if stale or not credentials.valid:
            try:
                credentials.refresh(HttpxRequest())
            except google_exceptions.RefreshError as error:
                # Google's answer names the OAuth error ("invalid_grant"): our key or clock,
                # not the message; temporary, like any other credentials refusal.
                reason = str(error.args[0] if error.args else "refused")[:80]
                raise TransportError(
                    f"fcm access token refused: {reason}", permanent=False
                ) from None
            except google_exceptions.TransportError as error:
                raise TransportError(
                    f"fcm token endpoint unreachable: {error}", permanent=False
                ) from None
        return str(credentials.token)


def forget_tokens() -> None:
    """Drop every cached account and token (tests; a rotated key file)."""
    with _accounts_lock:
        _accounts.clear()
