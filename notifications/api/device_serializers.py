"""What the mobile app and the browser send to register for push notifications."""

from __future__ import annotations

import base64
import binascii
import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from notifications.models import PushDevice

from .validation import StrictFieldsMixin

# Expo's documented format; the older "ExpoPushToken[...]" spelling is still issued.
EXPO_TOKEN = re.compile(r"^Expo(?:nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]$")
EXPO_PLATFORMS = (("ios", "iOS"), ("android", "Android"))
TOKEN_MAX_LENGTH = PushDevice._meta.get_field("token").max_length or 500
# A P-256 public key, uncompressed (65 bytes), and a 16-byte auth secret (RFC 8291).
P256DH_BYTES = 65
AUTH_BYTES = 16


class ExpoPushTokenSerializer(StrictFieldsMixin, serializers.Serializer):
    """Exactly the keys the mobile app sends (camelCase)."""

    token = serializers.RegexField(
        EXPO_TOKEN,
        max_length=TOKEN_MAX_LENGTH,
        help_text="ExponentPushToken[...]",
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


class WebPushKeysSerializer(StrictFieldsMixin, serializers.Serializer):
    p256dh = serializers.CharField(max_length=200)
    auth = serializers.CharField(max_length=100)

    def validate_p256dh(self, value: str) -> str:
        decoded = _base64url_bytes(value)
        if decoded is None or len(decoded) != P256DH_BYTES or decoded[0] != 0x04:
            raise serializers.ValidationError(_("Enter the subscription's p256dh key."))
        return value

    def validate_auth(self, value: str) -> str:
        decoded = _base64url_bytes(value)
        if decoded is None or len(decoded) != AUTH_BYTES:
            raise serializers.ValidationError(_("Enter the subscription's auth secret."))
        return value


class WebPushSubscriptionSerializer(StrictFieldsMixin, serializers.Serializer):
    """A browser's `PushSubscription.toJSON()`, as it comes."""

    endpoint = serializers.URLField(source="token", max_length=TOKEN_MAX_LENGTH)
    keys = WebPushKeysSerializer(write_only=True)
    # Part of what browsers send; accepted so the JSON can be posted as is, not stored
    # (push services say when a subscription ends by refusing it).
    expirationTime = serializers.IntegerField(
        required=False, allow_null=True, write_only=True, min_value=0
    )
    active = serializers.BooleanField(read_only=True)

    def validate_endpoint(self, value: str) -> str:
        if not value.lower().startswith("https://"):
            raise serializers.ValidationError(_("The endpoint must be an https:// address."))
        return value


class WebPushUnsubscribeSerializer(serializers.Serializer):
    """`?endpoint=`: the subscription to forget."""

    endpoint = serializers.URLField(max_length=TOKEN_MAX_LENGTH)
