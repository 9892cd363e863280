"""How each gateway proves a webhook is its own, compared in constant time.

Clickatell, BulkSMS and Africa's Talking sign nothing: their webhook URLs carry a secret
path segment (``PROVIDER_WEBHOOK_SECRET``). Twilio signs every request
(``X-Twilio-Signature``: HMAC-SHA1 of the URL and the sorted form, keyed by the auth
token), checked on top of the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from django.conf import settings


def secret_matches(given: str) -> bool:
    expected = settings.PROVIDER_WEBHOOK_SECRET
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def twilio_signature(url: str, form: Mapping[str, str], auth_token: str) -> str:
    signed = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_matches(url: str, form: Mapping[str, str], given: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not given:
        return False
    expected = twilio_signature(url, form, token)
    return hmac.compare_digest(expected.encode(), given.encode())
