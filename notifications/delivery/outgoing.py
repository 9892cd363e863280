"""What sending a batch of claimed deliveries reads: each delivery with its notification and
its recipient, in ONE query of the columns sending uses.

``select_related`` built four model instances per delivery (delivery, recipient,
notification, user) and decrypted every encrypted column of each, whether sending used it
or not. This reads the columns as tuples instead, builds one ``Notification`` per distinct
notification and a bare ``User`` per recipient (the fields rendering reads), and decrypts
the phone number only when the batch has SMS to send. Measured on PostgreSQL (CPU time
to read 500 of ``bench channels``' pushes, 2026-11-30, load ~2.5): 66-79 ms with
``select_related``, 29-33 ms this way (50-53 ms with the SMS phone numbers, decrypted at
~40 us each).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from accounts.models import User
from notifications.models import Channel, Delivery, Notification

_DELIVERY = ("id", "attempts", "channel")
_USER = (
    "recipient__user_id",
    "recipient__user__username",
    "recipient__user__first_name",
    "recipient__user__preferred_language",
    "recipient__user__timezone",
    "recipient__user__email",
)
_NOTIFICATION = (
    "recipient__notification_id",
    "recipient__notification__title",
    "recipient__notification__content",
    "recipient__notification__context",
    "recipient__notification__event",
    "recipient__notification__priority",
    "recipient__notification__notification_type",
    "recipient__notification__require_acknowledgment",
)


class Sendable(Protocol):
    """What recording a send needs of a delivery: a ``Delivery`` or an ``Outgoing``."""

    @property
    def pk(self) -> Any: ...

    @property
    def attempts(self) -> int: ...

    @property
    def channel(self) -> str: ...


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery with what its message is rendered from."""

    pk: int
    attempts: int
    channel: str
    notification: Notification
    user: User
    phone: str  # "" unless the batch has SMS to send


def read_outgoing(ids: Collection[int], channels: Collection[str]) -> dict[int, Outgoing]:
    """The deliveries ``ids`` (of ``channels``) by id, in one query."""
    with_phone = Channel.SMS in channels
    fields = (
        *_DELIVERY,
        *_USER,
        *_NOTIFICATION,
        *(("recipient__user__phone",) if with_phone else ()),
    )
    notifications: dict[int, Notification] = {}
    found: dict[int, Outgoing] = {}
    for row in Delivery.objects.filter(id__in=list(ids)).values_list(*fields):
        pk, attempts, channel = row[:3]
        user_id, username, first_name, language, zone, email = row[3:9]
        notification_id, *notification_values = row[9:17]
        notification = notifications.get(notification_id)
        if notification is None:
            title, content, context, event, priority, kind, acknowledge = notification_values
            notification = notifications[notification_id] = Notification(
                pk=notification_id,
                title=title,
                content=content,
                context=context,
                event=event,
                priority=priority,
                notification_type=kind,
                require_acknowledgment=acknowledge,
            )
        user = User(
            pk=user_id,
            username=username,
            first_name=first_name,
            preferred_language=language,
            timezone=zone,
            email=email,
        )
        phone = str(row[17] or "") if with_phone else ""
        found[pk] = Outgoing(pk, attempts, channel, notification, user, phone)
    return found
