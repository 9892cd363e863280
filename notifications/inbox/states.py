"""A recipient's own state of a notification: unread -> read -> acknowledged, or dismissed.

Every change is one conditional UPDATE that only moves forward, so repeating a request, or
two devices racing, can never move a state backwards or overwrite the first timestamp.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.models import NotificationRecipient, RecipientStatus

UNREAD_COUNT_TTL_SECONDS = 300


def unread_count_cache_key(user_id: int) -> str:
    return f"notifications:unread-count:{user_id}"


class StateChangeRefused(ValueError):
    """The change does not apply to this notification (shown to the user: translated)."""


def _in_app(user_id: int) -> QuerySet[NotificationRecipient]:
    return NotificationRecipient.objects.filter(user_id=user_id, in_app=True).select_related(
        "notification"
    )


def inbox(
    user_id: int, *, status: str | None = None, notification_type: str | None = None
) -> QuerySet[NotificationRecipient]:
    """The user's in-app notifications, newest first; only those in ``status`` and of
    ``notification_type`` when given. Dismissed means "hide it": those are left out
    unless asked for by status."""
    recipients = _in_app(user_id)
    if status is None:
        recipients = recipients.exclude(status=RecipientStatus.DISMISSED)
    else:
        recipients = recipients.filter(status=status)
    if notification_type is not None:
        recipients = recipients.filter(notification__notification_type=notification_type)
    return recipients.order_by("-created_at", "-id")


def _own(user_id: int, notification_id: int) -> NotificationRecipient:
    """The user's copy, or DoesNotExist (someone else's notification is simply not found)."""
    return _in_app(user_id).get(notification_id=notification_id)


def mark_read(user_id: int, notification_id: int) -> NotificationRecipient:
    recipient = _own(user_id, notification_id)
    NotificationRecipient.objects.filter(pk=recipient.pk, status=RecipientStatus.UNREAD).update(
        status=RecipientStatus.READ, read_at=timezone.now()
    )
    cache.delete(unread_count_cache_key(user_id))
    recipient.refresh_from_db()
    return recipient


def acknowledge(user_id: int, notification_id: int) -> NotificationRecipient:
    """Record that the user has seen and accepted a notification that asks for it.

    Refused for a notification that does not ask for acknowledgment: accepting it would
    record a confirmation nobody was asked for.
    """
    recipient = _own(user_id, notification_id)
    if not recipient.notification.require_acknowledgment:
        raise StateChangeRefused(_("This notification does not ask for acknowledgment."))
    if recipient.status == RecipientStatus.DISMISSED:
        raise StateChangeRefused(_("This notification was dismissed."))
    now = timezone.now()
    NotificationRecipient.objects.filter(
        pk=recipient.pk, status__in=[RecipientStatus.UNREAD, RecipientStatus.READ]
    ).update(
        status=RecipientStatus.ACKNOWLEDGED,
        acknowledged_at=now,
        read_at=Coalesce("read_at", now),
    )
    cache.delete(unread_count_cache_key(user_id))
    recipient.refresh_from_db()
    return recipient


def dismiss(user_id: int, notification_id: int) -> NotificationRecipient:
    """Hide a notification. One that asks for acknowledgment must be acknowledged first:
    dismissing must not be a way round a confirmation a pharmacist asked for."""
    recipient = _own(user_id, notification_id)
    if (
        recipient.notification.require_acknowledgment
        and recipient.status != RecipientStatus.ACKNOWLEDGED
    ):
        raise StateChangeRefused(_("Acknowledge this notification before dismissing it."))
    NotificationRecipient.objects.filter(
        pk=recipient.pk,
        status__in=[RecipientStatus.UNREAD, RecipientStatus.READ, RecipientStatus.ACKNOWLEDGED],
    ).update(status=RecipientStatus.DISMISSED, dismissed_at=timezone.now())
    cache.delete(unread_count_cache_key(user_id))
    recipient.refresh_from_db()
    return recipient


def mark_all_read(user_id: int) -> int:
    changed = NotificationRecipient.objects.filter(
        user_id=user_id, in_app=True, status=RecipientStatus.UNREAD
    ).update(status=RecipientStatus.READ, read_at=timezone.now())
    cache.delete(unread_count_cache_key(user_id))
    return changed


# Caches that live inside one process: a worker that drops a count there drops it only in
# its own memory, so the web process would keep answering the old count until it expires.
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


def cache_is_shared() -> bool:
    """Whether the web and worker processes share the cache (Redis, or any other server),
    so that the worker's drop of a cached count reaches the web process. Read per call:
    tests switch the cache with ``override_settings``."""
    return settings.CACHES["default"]["BACKEND"] not in PER_PROCESS_CACHES


def _count_unread(user_id: int) -> int:
    # One COUNT over the recipient_inbox_idx index (user, status; in-app rows only).
    return NotificationRecipient.objects.filter(
        user_id=user_id, in_app=True, status=RecipientStatus.UNREAD
    ).count()


def unread_count(user_id: int) -> int:
    """The user's unread in-app notifications. From the cache when it is shared by every
    process (the worker drops the count when it delivers); otherwise (the embedded
    default's per-process cache) counted in the database on each call, so the badge is live
    there too at the price of one indexed query per poll."""
    if not cache_is_shared():
        return _count_unread(user_id)
    key = unread_count_cache_key(user_id)
    count = cache.get(key)
    if count is None:
        count = _count_unread(user_id)
        cache.set(key, count, UNREAD_COUNT_TTL_SECONDS)
    return int(count)
