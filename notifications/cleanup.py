"""The periodic "Cleanup Old Notifications" (weekly, Sunday 02:00): retention.

A recipient row (one user's copy, with its deliveries and their attempts) is deleted when:

- it is older than ``NOTIFICATION_RETENTION_DAYS`` (90) and the user is done with it — read
  or dismissed — or it has no in-app copy at all (in-app was off, so nobody can ever read
  it; it is only a delivery record) — and it was never acknowledged;
- it is older than ``NOTIFICATION_ACKNOWLEDGED_RETENTION_DAYS`` (730), whatever its state.

So acknowledged copies (of critical notifications and any other) keep their delivery audit
for two years: an acknowledgment is the record that a patient or caregiver confirmed a
warning. Unread in-app copies are kept as long, because an unread warning must not vanish
from an inbox, but not forever: nothing lives longer than the acknowledged retention.
"Acknowledged" means an ``acknowledged_at`` time, so a copy acknowledged and then
dismissed still counts as acknowledged.

Then a notification with no recipient left, older than the normal retention, is deleted.
Last, the other kinds of record (audit entries, consent and erasure records, doses, closed
caregiver invitations with their texts' delivery reports, expired tokens and sessions) past
their periods in ``RETENTION_DAYS`` (``privacy.retention``).

Deletes go in pages of ids, each page in its own short transaction, so no lock is held for
long and a killed run leaves consistent data behind (the next run carries on). Counts are
exact: Django's collector reports what each delete removed, cascades included.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Delivery, DeliveryAttempt, Notification, NotificationRecipient, RecipientStatus

__all__ = ["cleanup_old_notifications", "expired_recipients"]

DEFAULT_BATCH_SIZE = 2000
ModelT = TypeVar("ModelT", bound=Model)


def expired_recipients(now: datetime.datetime) -> QuerySet[NotificationRecipient]:
    """The recipient rows the retention rules allow to delete at ``now``."""
    retention = now - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    acknowledged_retention = now - datetime.timedelta(
        days=settings.NOTIFICATION_ACKNOWLEDGED_RETENTION_DAYS
    )
    done_with = Q(status__in=[RecipientStatus.READ, RecipientStatus.DISMISSED]) | Q(in_app=False)
    never_acknowledged = Q(acknowledged_at__isnull=True) & ~Q(status=RecipientStatus.ACKNOWLEDGED)
    return NotificationRecipient.objects.filter(
        (Q(created_at__lt=retention) & done_with & never_acknowledged)
        | Q(created_at__lt=acknowledged_retention)
    )


def _orphaned_notifications(now: datetime.datetime) -> QuerySet[Notification]:
    retention = now - datetime.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    has_recipient = NotificationRecipient.objects.filter(notification=OuterRef("pk"))
    return Notification.objects.filter(created_at__lt=retention).filter(~Exists(has_recipient))


def _delete_in_pages(
    queryset: Callable[[], QuerySet[ModelT]], batch_size: int
) -> Iterator[dict[str, int]]:
    """Delete what ``queryset()`` selects, a page of ids at a time (keyset, so a row that
    cannot be deleted is passed over rather than selected forever). Yields each page's
    per-model counts."""
    last_pk = 0
    while True:
        ids = list(
            queryset()
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return
        with transaction.atomic():
            # The page's conditions again: a row that changed since it was selected (a
            # notification sent to one more user) is left alone.
            _, per_model = queryset().filter(pk__in=ids).delete()
        yield per_model
        if len(ids) < batch_size:
            return
        last_pk = ids[-1]


def cleanup_old_notifications(
    now: datetime.datetime | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, int]:
    """Apply the retention rules above. Returns exact counts of what was deleted:
    ``recipients_deleted``, ``deliveries_deleted``, ``attempts_deleted``,
    ``notifications_deleted``, then one ``<kind>_deleted`` per kind in
    ``privacy.retention.purge_expired``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    now = now or timezone.now()
    labels = {
        NotificationRecipient._meta.label: "recipients_deleted",
        Delivery._meta.label: "deliveries_deleted",
        DeliveryAttempt._meta.label: "attempts_deleted",
        Notification._meta.label: "notifications_deleted",
    }
    summary = dict.fromkeys(labels.values(), 0)
    pages = itertools.chain(
        _delete_in_pages(lambda: expired_recipients(now), batch_size),
        # Recipients first: a notification whose last copies just went is orphaned now.
        _delete_in_pages(lambda: _orphaned_notifications(now), batch_size),
    )
    for per_model in pages:
        for label, count in per_model.items():
            if label in labels:
                summary[labels[label]] += count
    # The other kinds of record, each with its own period (settings.RETENTION_DAYS).
    from privacy.retention import purge_expired

    summary.update(purge_expired(now, lambda queryset: _delete_in_pages(queryset, batch_size)))
    return summary
