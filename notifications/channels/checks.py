"""System checks for the chosen providers (``manage.py check``; start-up of every process).

Stable ids, so a deployment can silence one deliberately:
- ``notifications.E001``: an SMS gateway in SMS_BACKENDS lacks a credential.
- ``notifications.E002``: the provider push transport is chosen without all VAPID settings.
- ``notifications.W001``: SMS gateways chosen without PROVIDER_WEBHOOK_SECRET, so the
  gateways that sign nothing cannot report delivery or replies.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

_PROVIDER_PUSH = "notifications.channels.push.ProviderPushTransport"
_VAPID = ("WEBPUSH_VAPID_PUBLIC_KEY", "WEBPUSH_VAPID_PRIVATE_KEY", "WEBPUSH_VAPID_SUBJECT")


@register()
def provider_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from .sms.failover import GATEWAYS

    messages: list[CheckMessage] = []
    for name in settings.SMS_BACKENDS:
        gateway = import_string(GATEWAYS[name])
        for setting in gateway.credentials:
            if not getattr(settings, setting, ""):
                messages.append(
                    Error(
                        f"SMS_BACKENDS names {name}, but {setting} is not set.",
                        hint=f"Set {setting} in the environment, or remove {name} from "
                        "SMS_BACKENDS.",
                        id="notifications.E001",
                    )
                )
    if settings.SMS_BACKENDS and not settings.PROVIDER_WEBHOOK_SECRET:
        messages.append(
            Warning(
                "PROVIDER_WEBHOOK_SECRET is not set: delivery reports and replies from "
                "gateways that sign nothing are refused.",
                hint="Set it to a long random string and use it in the webhook URLs.",
                id="notifications.W001",
            )
        )
    if settings.NOTIFICATION_TRANSPORTS.get("push") == _PROVIDER_PUSH:
        missing = [name for name in _VAPID if not getattr(settings, name, "")]
        if missing:
            messages.append(
                Error(
                    f"Web Push needs {', '.join(missing)}.",
                    hint="Generate a VAPID key pair (e.g. `vapid --gen`) and set all three.",
                    id="notifications.E002",
                )
            )
    return messages
