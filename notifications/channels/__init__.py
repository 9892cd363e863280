"""One transport per channel (email, SMS, push); in-app needs none.

``settings.NOTIFICATION_TRANSPORTS`` maps each channel to a dotted path, imported only
when a transport is asked for, so a worker that never sends SMS never imports an SMS
provider's client.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import (
    OutcomeUnknown,
    OutgoingMessage,
    PushTarget,
    SendOutcome,
    SendReceipt,
    Transport,
    TransportError,
)

__all__ = [
    "OutcomeUnknown",
    "OutgoingMessage",
    "PushTarget",
    "SendOutcome",
    "SendReceipt",
    "Transport",
    "TransportError",
    "get_transport",
]


def get_transport(channel: str) -> Transport:
    """A new transport for ``channel``, as configured in NOTIFICATION_TRANSPORTS."""
    try:
        path = settings.NOTIFICATION_TRANSPORTS[channel]
    except KeyError:
        raise ValueError(f"no transport for notification channel {channel!r}") from None
    transport_class = import_string(path)
    if not (isinstance(transport_class, type) and issubclass(transport_class, Transport)):
        raise ImproperlyConfigured(f"NOTIFICATION_TRANSPORTS[{channel!r}] is not a Transport")
    if transport_class.channel != channel:
        raise ImproperlyConfigured(
            f"NOTIFICATION_TRANSPORTS[{channel!r}] is a {transport_class.channel!r} transport"
        )
    return transport_class()
