"""Registering and unregistering the caller's push devices (Expo tokens, Web Push
subscriptions). A token identifies a device, not a person: when a phone changes hands the
token moves to whoever registers it last, so the previous owner's reminders stop going to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from notifications.models import PushDevice

if TYPE_CHECKING:
    from accounts.models import User

WEB_PUSH_PLATFORM = "web"


def register_expo_device(
    user: User, token: str, *, platform: str, device_model: str = "", os_version: str = ""
) -> tuple[PushDevice, bool]:
    """Create or re-activate the device holding ``token`` for ``user``; (device, created)."""
    return PushDevice.objects.update_or_create(
        kind=PushDevice.Kind.EXPO,
        token=token,
        defaults={
            "user": user,
            "platform": platform,
            "device_model": device_model,
            "os_version": os_version,
            "active": True,
        },
    )


def register_web_push(
    user: User, endpoint: str, keys: Mapping[str, str]
) -> tuple[PushDevice, bool]:
    return PushDevice.objects.update_or_create(
        kind=PushDevice.Kind.WEB_PUSH,
        token=endpoint,
        defaults={
            "user": user,
            "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
            "platform": WEB_PUSH_PLATFORM,
            "active": True,
        },
    )


def unregister(user_id: int, kind: str, token: str) -> bool:
    """Stop pushing to the user's device with ``token``. False if the user has no such
    device (someone else's token is not found, the same as an unknown one). Idempotent."""
    changed = PushDevice.objects.filter(user_id=user_id, kind=kind, token=token).update(
        active=False
    )
    return changed > 0
