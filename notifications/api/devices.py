"""Registering and unregistering the caller's push devices (Expo tokens, FCM tokens, Web
Push subscriptions).

A token identifies a device, and whoever holds it gets that device's reminders. Moving a
token that another active account is using would silently stop that patient's medication
reminders, so it moves only once the device was released: its owner unregistered it (the app
does on sign-out), the push service reported it gone, or the owner's account was closed.
Until then the caller is refused (409) and told so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from notifications.models import PushDevice

from .device_serializers import EXPO_TOKEN

if TYPE_CHECKING:
    from accounts.models import User

WEB_PUSH_PLATFORM = "web"


class DeviceHeldByAnotherAccount(Exception):
    """The token is an active device of another active account."""


def phone_token_kind(token: str) -> str:
    """Expo's for an ``ExponentPushToken[…]``, FCM's for any other phone token: the two
    shapes never overlap (device_serializers.PHONE_PUSH_TOKEN)."""
    return PushDevice.Kind.EXPO if EXPO_TOKEN.match(token) else PushDevice.Kind.FCM


def register_expo_device(
    user: User, token: str, *, platform: str, device_model: str = "", os_version: str = ""
) -> tuple[PushDevice, bool]:
    """Create or re-activate the device holding ``token`` (an Expo token, or an FCM token
    sent to FCM directly) for ``user``; (device, created).
    Raises DeviceHeldByAnotherAccount for a device another account has not released."""
    fields = {"platform": platform, "device_model": device_model, "os_version": os_version}
    return _register(user, phone_token_kind(token), token, fields)


def register_web_push(
    user: User, endpoint: str, keys: Mapping[str, str]
) -> tuple[PushDevice, bool]:
    fields = {
        "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
        "platform": WEB_PUSH_PLATFORM,
    }
    return _register(user, PushDevice.Kind.WEB_PUSH, endpoint, fields)


def _register(user: User, kind: str, token: str, fields: dict[str, Any]) -> tuple[PushDevice, bool]:
    for _attempt in range(2):
        with transaction.atomic():
            # Locked: two accounts registering the same token at once must not both win.
            device = (
                PushDevice.objects.select_for_update()
                .select_related("user")
                .filter(kind=kind, token=token)
                .first()
            )
            if device is None:
                try:
                    with transaction.atomic():
                        created = PushDevice.objects.create(
                            user=user, kind=kind, token=token, active=True, **fields
                        )
                except IntegrityError:
                    continue  # registered concurrently: decide again on the stored row
                return created, True
            if device.user_id != user.pk and device.active and device.user.is_active:
                raise DeviceHeldByAnotherAccount
            for name, value in {**fields, "user": user, "active": True}.items():
                setattr(device, name, value)
            device.save(update_fields=[*fields, "user", "active"])
            return device, False
    raise DeviceHeldByAnotherAccount  # pragma: no cover - a row that appears and vanishes


def unregister(user_id: int, kind: str, token: str) -> bool:
    """Stop pushing to the user's device with ``token``. False if the user has no such
    device (someone else's token is not found, the same as an unknown one). Idempotent."""
    changed = PushDevice.objects.filter(user_id=user_id, kind=kind, token=token).update(
        active=False
    )
    return changed > 0
