"""Operator actions on the outbox (admin actions call these)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications.delivery import outbox, poison
from notifications.models import Delivery, DeliveryStatus, NotificationType, Priority
from notifications.sending.fanout import SendResult

if TYPE_CHECKING:
    from accounts.models import User


def resend_failed(deliveries: QuerySet[Delivery]) -> int:
    """Give failed deliveries a fresh set of attempts, due now. One that killed its workers
    (``poison.py``) is given fresh tries too, but still sent alone, so that if it is still
    poison it cannot hold up the others."""
    now = timezone.now()
    with transaction.atomic():
        failed = list(deliveries.filter(status=DeliveryStatus.FAILED).values_list("id", "reclaims"))
        ids = [pk for pk, _ in failed]
        # Published on commit just below, so marked enqueued: the sweeper leaves them be.
        Delivery.objects.filter(id__in=ids, status=DeliveryStatus.FAILED).back_to_pending(
            not_before=now, last_error="", attempts=0, reclaims_alone=0, enqueued_at=now
        )
        batched = [pk for pk, reclaims in failed if not poison.is_suspect(reclaims)]
        alone = [pk for pk, reclaims in failed if poison.is_suspect(reclaims)]
        transaction.on_commit(lambda: outbox.enqueue_deliveries(batched, alone=alone))
    return len(ids)


def cancel_pending(deliveries: QuerySet[Delivery]) -> int:
    """Stop deliveries that have not gone out yet (those being sent right now go on)."""
    return deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, last_error="cancelled by staff"
    )


def send_test_notification(user: User) -> SendResult:
    from notifications.services import NotificationService

    notification = NotificationService.create_notification(
        title="",
        content="",
        notification_type=NotificationType.SYSTEM,
        priority=Priority.HIGH,
        event="test",
        created_by=user,
    )
    return NotificationService.send_notification_to_user(user, notification)
