"""Cleanup Old Notifications: what retention deletes, what it keeps, counted exactly."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from medguard_backend.testing.factories import UserFactory
from notifications.cleanup import cleanup_old_notifications
from notifications.models import Delivery, DeliveryAttempt, Notification, NotificationRecipient

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 0, 0, tzinfo=datetime.UTC)
CHANNELS = ("in_app", "email", "sms")


def notification(age_days: int, priority: str = "medium") -> Notification:
    return Notification.objects.create(
        title="Metformin is running low",
        notification_type="stock",
        priority=priority,
        created_at=NOW - datetime.timedelta(days=age_days),
    )


def copy(
    age_days: int,
    status: str = "read",
    *,
    of: Notification | None = None,
    priority: str = "medium",
    acknowledged: bool = False,
    in_app: bool = True,
    deliveries: int = 2,
) -> NotificationRecipient:
    """One user's copy, with ``deliveries`` deliveries of one attempt each."""
    of = of or notification(age_days, priority)
    created = NOW - datetime.timedelta(days=age_days)
    recipient = NotificationRecipient.objects.create(
        notification=of,
        user=UserFactory(),
        status=status,
        in_app=in_app,
        created_at=created,
        acknowledged_at=created if acknowledged else None,
    )
    for channel in CHANNELS[:deliveries]:
        delivery = Delivery.objects.create(recipient=recipient, channel=channel, status="sent")
        DeliveryAttempt.objects.create(delivery=delivery, number=1, outcome="sent")
    return recipient


def remaining(*recipients: NotificationRecipient) -> list[bool]:
    existing = set(NotificationRecipient.objects.values_list("pk", flat=True))
    return [recipient.pk in existing for recipient in recipients]


# The other kinds of record (privacy/tests/test_retention.py), none of them here.
NOTHING_ELSE = {
    "audit_entries_deleted": 0,
    "consent_records_deleted": 0,
    "erasure_records_deleted": 0,
    "doses_deleted": 0,
    "invitation_receipts_deleted": 0,
    "caregiver_invitations_deleted": 0,
    "expired_tokens_deleted": 0,
    "expired_sessions_deleted": 0,
}


def test_read_and_dismissed_copies_go_after_the_retention_and_not_a_day_before() -> None:
    read_old, dismissed_old = copy(91, "read"), copy(91, "dismissed")
    read_recent, dismissed_recent = copy(89, "read"), copy(89, "dismissed")

    summary = cleanup_old_notifications(NOW)

    assert remaining(read_old, dismissed_old, read_recent, dismissed_recent) == [
        False,
        False,
        True,
        True,
    ]
    assert summary == {
        "recipients_deleted": 2,
        "deliveries_deleted": 4,
        "attempts_deleted": 4,
        "notifications_deleted": 2,
        **NOTHING_ELSE,
    }
    assert Delivery.objects.count() == 4
    assert DeliveryAttempt.objects.count() == 4


def test_acknowledged_critical_copies_keep_their_delivery_audit_for_two_years() -> None:
    kept = [
        copy(91, "acknowledged", priority="critical", acknowledged=True),
        copy(729, "acknowledged", priority="critical", acknowledged=True),
    ]
    too_old = copy(731, "acknowledged", priority="critical", acknowledged=True)

    summary = cleanup_old_notifications(NOW)

    assert remaining(*kept, too_old) == [True, True, False]
    assert Delivery.objects.filter(recipient__in=kept).count() == 4
    assert DeliveryAttempt.objects.filter(delivery__recipient__in=kept).count() == 4
    assert summary == {
        "recipients_deleted": 1,
        "deliveries_deleted": 2,
        "attempts_deleted": 2,
        "notifications_deleted": 1,
        **NOTHING_ELSE,
    }


def test_any_acknowledged_copy_is_kept_even_when_dismissed_afterwards() -> None:
    acknowledged = copy(400, "acknowledged", acknowledged=True)
    acknowledged_then_dismissed = copy(400, "dismissed", acknowledged=True)

    assert cleanup_old_notifications(NOW)["recipients_deleted"] == 0
    assert remaining(acknowledged, acknowledged_then_dismissed) == [True, True]


def test_unread_copies_stay_in_the_inbox_until_the_acknowledged_retention() -> None:
    unread, unread_too_old = copy(400, "unread"), copy(731, "unread")

    cleanup_old_notifications(NOW)

    assert remaining(unread, unread_too_old) == [True, False]


def test_a_copy_without_an_in_app_view_is_a_delivery_record_kept_for_the_retention_only() -> None:
    email_only_old = copy(91, "unread", in_app=False)
    email_only_recent = copy(89, "unread", in_app=False)

    cleanup_old_notifications(NOW)

    assert remaining(email_only_old, email_only_recent) == [False, True]


def test_a_notification_stays_while_anyone_still_has_a_copy() -> None:
    shared = notification(120)
    gone = copy(120, "read", of=shared)
    kept = copy(120, "unread", of=shared)

    summary = cleanup_old_notifications(NOW)

    assert remaining(gone, kept) == [False, True]
    assert Notification.objects.filter(pk=shared.pk).exists()
    assert summary["notifications_deleted"] == 0


def test_old_notifications_without_any_copy_go_and_recent_ones_stay() -> None:
    notification(91)
    never_sent_recent = notification(10)

    summary = cleanup_old_notifications(NOW)

    assert summary["notifications_deleted"] == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [never_sent_recent.pk]


@pytest.mark.parametrize("batch_size", [1, 2, 2000])
def test_deleting_in_small_batches_deletes_the_same_rows_counted_the_same(
    batch_size: int,
) -> None:
    for age in (91, 95, 100, 200, 300):
        copy(age, "read", deliveries=3)
    kept = copy(30, "read")

    summary = cleanup_old_notifications(NOW, batch_size=batch_size)

    assert summary == {
        "recipients_deleted": 5,
        "deliveries_deleted": 15,
        "attempts_deleted": 15,
        "notifications_deleted": 5,
        **NOTHING_ELSE,
    }
    assert remaining(kept) == [True]
    assert cleanup_old_notifications(NOW, batch_size=batch_size) == dict.fromkeys(summary, 0)


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        cleanup_old_notifications(NOW, batch_size=0)


def test_without_a_time_it_uses_now(settings: Any) -> None:
    settings.NOTIFICATION_RETENTION_DAYS = 1
    old = NotificationRecipient.objects.create(
        notification=notification(0),
        user=UserFactory(),
        status="read",
        created_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=2),
    )

    assert cleanup_old_notifications()["recipients_deleted"] == 1
    assert remaining(old) == [False]
