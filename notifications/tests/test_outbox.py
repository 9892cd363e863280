"""The database is the outbox: the sweeper publishes what is due and reclaims stuck work."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from medguard_backend.testing.factories import UserFactory
from notifications.delivery import claims, operations, outbox
from notifications.models import Delivery, DeliveryStatus
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db


def send_email_to(user):
    notification = NotificationService.create_notification("Hello", "There", "general", "low")
    NotificationService.send_notification_to_user(user, notification, channels=["email"])
    return Delivery.objects.get(recipient__user=user, channel="email")


def test_a_due_delivery_whose_message_was_lost_is_published_again_after_a_while(settings) -> None:
    delivery = send_email_to(UserFactory())
    assert delivery.enqueued_at is not None

    assert outbox.sweep().enqueued == 0  # just published: leave it alone
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_REENQUEUE_AFTER_SECONDS + 1)
    assert outbox.sweep(now=later).enqueued == 1


def test_a_deferred_delivery_is_published_only_once_due() -> None:
    delivery = send_email_to(UserFactory())
    release = timezone.now() + timedelta(hours=2)
    Delivery.objects.filter(pk=delivery.pk).update(not_before=release, enqueued_at=None)

    assert outbox.sweep().enqueued == 0
    assert outbox.sweep(now=release).enqueued == 1


def test_claiming_takes_only_pending_due_rows_and_only_once() -> None:
    delivery = send_email_to(UserFactory())
    now = timezone.now()

    first = claims.claim(uuid.uuid4(), Delivery.objects.filter(pk=delivery.pk), now)
    second = claims.claim(uuid.uuid4(), Delivery.objects.filter(pk=delivery.pk), now)

    assert [claimed.id for claimed in first] == [delivery.pk]
    assert second == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING
    assert delivery.attempts == 1


def test_stuck_sending_is_reclaimed_only_after_the_timeout(settings) -> None:
    delivery = send_email_to(UserFactory())
    claims.claim(uuid.uuid4(), Delivery.objects.filter(pk=delivery.pk), timezone.now())

    assert outbox.reclaim_stuck() == 0
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    assert outbox.reclaim_stuck(later) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "worker lost while sending"


def test_admin_operations_resend_failed_and_cancel_pending() -> None:
    failed = send_email_to(UserFactory())
    pending = send_email_to(UserFactory())
    Delivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED, attempts=5)

    assert operations.resend_failed(Delivery.objects.all()) == 1
    assert operations.cancel_pending(Delivery.objects.filter(pk=pending.pk)) == 1

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.PENDING, 0)
    assert pending.status == DeliveryStatus.CANCELLED
