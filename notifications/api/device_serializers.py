"""What the mobile app and the browser send to register for push notifications."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.models import PushDevice

from .validation import StrictFieldsMixin

# Expo's documented format; the older "ExpoPushToken[...]" spelling is still issued.
_EXPO = r"Expo(?:nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]"
# An FCM registration token (an app build that talks to Firebase directly): Google calls it
# opaque; those issued are URL-safe base64 with a colon, 140-200 characters today. No
# brackets, so it never looks like an Expo token.
_FCM = r"[A-Za-z0-9_:-]{64,400}"
EXPO_TOKEN = re.compile(f"^{_EXPO}$")
# What `/api/push-tokens/` takes: either.
PHONE_PUSH_TOKEN = re.compile(f"^(?:{_EXPO}|{_FCM})$")
EXPO_PLATFORMS = (("ios", "iOS"), ("android", "Android"))
TOKEN_MAX_LENGTH = PushDevice._meta.get_field("token").max_length or 500
# A P-256 public key, uncompressed (65 bytes), and a 16-byte auth secret (RFC 8291).
P256DH_BYTES = 65
AUTH_BYTES = 16


class ExpoPushTokenSerializer(StrictFieldsMixin, serializers.Serializer):
    """Exactly the keys the mobile app sends (camelCase)."""

    token = serializers.RegexField(
        PHONE_PUSH_TOKEN,
        max_length=TOKEN_MAX_LENGTH,
        help_text="ExponentPushToken[...], or an FCM registration token",
        error_messages={"invalid": _("Enter an Expo push token, like ExponentPushToken[…].")},
    )
    platform = serializers.ChoiceField(choices=EXPO_PLATFORMS)
    deviceModel = serializers.CharField(
        source="device_model", max_length=100, required=False, allow_blank=True, default=""
    )
    osVersion = serializers.CharField(
        source="os_version", max_length=50, required=False, allow_blank=True, default=""
    )
    active = serializers.BooleanField(read_only=True)


def _base64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


# base64url of 65 bytes starting 0x04 (so "B" then A-P), and of 16 bytes; padding optional.
P256DH_PATTERN = r"^B[A-P][A-Za-z0-9_-]{85}=?$"
AUTH_PATTERN = r"^[A-Za-z0-9_-]{22}(==)?$"


@extend_schema_field({"type": "string", "pattern": P256DH_PATTERN})
class P256dhField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "pattern": AUTH_PATTERN})
class AuthSecretField(serializers.CharField):
    pass


class WebPushKeysSerializer(StrictFieldsMixin, serializers.Serializer):
    """The subscription's keys: `p256dh` (the browser's public key) and `auth` (a secret)."""

    p256dh = P256dhField(max_length=200)
    auth = AuthSecretField(max_length=100)

    def validate_p256dh(self, value: str) -> str:
        decoded = _base64url_bytes(value) if re.match(P256DH_PATTERN, value) else None
        if decoded is None or len(decoded) != P256DH_BYTES or decoded[0] != 0x04:
            raise serializers.ValidationError(_("Enter the subscription's p256dh key."))
        return value

    def validate_auth(self, value: str) -> str:
        decoded = _base64url_bytes(value) if re.match(AUTH_PATTERN, value) else None
        if decoded is None or len(decoded) != AUTH_BYTES:
            raise serializers.ValidationError(_("Enter the subscription's auth secret."))
        return value


# RFC 3986 characters only (ASCII): a host, an optional port, then path, query and fragment.
HTTPS_URL_PATTERN = (
    r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?$"
)


# Push services choose their endpoint URLs: any https address is accepted (Django's
# URLValidator refuses some hosts that the schema's "uri" allows).
# The pattern is the whole rule (no "format: uri": validators disagree on what that allows).
@extend_schema_field({"type": "string", "pattern": HTTPS_URL_PATTERN})
class HttpsUrlField(serializers.RegexField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            HTTPS_URL_PATTERN,
            error_messages={"invalid": _("The endpoint must be an https:// address.")},
            **kwargs,
        )


class WebPushSubscriptionSerializer(StrictFieldsMixin, serializers.Serializer):
    """A browser's `PushSubscription.toJSON()`, as it comes."""

    endpoint = HttpsUrlField(source="token", max_length=TOKEN_MAX_LENGTH)
    keys = WebPushKeysSerializer(write_only=True)
    # Part of what browsers send; accepted so the JSON can be posted as is, not stored
    # (push services say when a subscription ends by refusing it).
    # Milliseconds since 1970; JavaScript numbers are exact up to 2**53.
    expirationTime = serializers.IntegerField(
        required=False, allow_null=True, write_only=True, min_value=0, max_value=2**53 - 1
    )
    active = serializers.BooleanField(read_only=True)


class WebPushUnsubscribeSerializer(serializers.Serializer):
    """`?endpoint=`: the subscription to forget (any other string is simply not found)."""

    endpoint = serializers.CharField(max_length=TOKEN_MAX_LENGTH)
