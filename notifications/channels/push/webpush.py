"""Web Push to browsers: the payload encrypted for the subscription (RFC 8291, aes128gcm,
by pywebpush), the request signed with our VAPID key (RFC 8292), POSTed to the
subscription's endpoint over the shared HTTP client. 404/410 means the subscription is
gone (the user revoked permission or the browser dropped it).
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

from ..base import PushTarget, TransportError
from ..http import HttpService, ProviderRequest, exchange

# A VAPID token is valid for at most 24 hours (RFC 8292 section 2); 12 leaves room for
# clock skew at the push service.
_TOKEN_SECONDS = 12 * 3600


class SubscriptionGone(TransportError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid02:
    return Vapid02.from_string(private_key)


class WebPush(HttpService):
    name = "webpush"

    def send(self, target: PushTarget, title: str, body: str, delivery_id: int) -> None:
        """Push one message to one subscription, or raise (``SubscriptionGone`` for a
        subscription the push service no longer knows)."""
        payload = json.dumps(
            {"title": title, "body": body, "deliveryId": delivery_id}, ensure_ascii=False
        ).encode()
        try:
            encrypted = WebPusher({"endpoint": target.token, "keys": dict(target.keys)}).encode(
                payload, content_encoding="aes128gcm"
            )
        except (WebPushException, ValueError, TypeError) as error:
            raise TransportError(
                f"webpush subscription keys unusable: {type(error).__name__}", permanent=True
            ) from None
        endpoint = urlsplit(target.token)
        claims = {
            "sub": settings.WEBPUSH_VAPID_SUBJECT,
            "aud": f"{endpoint.scheme}://{endpoint.netloc}",
            "exp": int(time.time()) + _TOKEN_SECONDS,
        }
        headers = dict(_vapid(settings.WEBPUSH_VAPID_PRIVATE_KEY).sign(claims))
        headers |= {
            "TTL": str(settings.WEBPUSH_TTL_SECONDS),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Urgency": "high",
        }
        answer = exchange(
            self, ProviderRequest("POST", target.token, headers=headers, content=encrypted["body"])
        )
        if answer.status_code in (200, 201, 202):
            return
        if answer.status_code in (404, 410):
            raise SubscriptionGone(f"webpush subscription gone (HTTP {answer.status_code})")
        if answer.status_code in (400, 413):
            raise TransportError(
                f"webpush refused the message (HTTP {answer.status_code})", permanent=True
            )
        raise self.refusal(answer)
