"""The dashboard's daily rollups: exact counts per day, open days recounted, closed days kept."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.models import DeliveryDay, DoseDay, FailureDay, ResponseDay, RollupMark
from clinic.rollups import refresh_rollups
from medguard_backend.testing.factories import UserFactory
from medications.models import Dose
from medications.tests.factories import DoseFactory
from notifications.models import Delivery, NotificationRecipient
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

ZA = ZoneInfo("Africa/Johannesburg")
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=ZA)


def sent_on(day: datetime.date, users, *, channels=("email",), ack=False):
    """A notification to ``users`` whose rows are dated ``day`` (10:00 local)."""
    notification = NotificationService.create_notification(
        "Clinic closed",
        "Closed on Friday.",
        "system",
        "high",
        target_users=users,
        require_acknowledgment=ack,
    )
    NotificationService.send_notification_to_users(users, notification, channels=list(channels))
    when = datetime.datetime.combine(day, datetime.time(10), tzinfo=ZA)
    recipients = NotificationRecipient.objects.filter(notification=notification)
    recipients.update(created_at=when)
    Delivery.objects.filter(recipient__notification=notification).update(created_at=when)
    return notification, when


def counts(**filters) -> dict[tuple, int]:
    return {
        (row.day, row.channel, row.status): row.count
        # The in-app copies are counted too; these tests look at the outside channels.
        for row in DeliveryDay.objects.filter(**filters).exclude(channel="in_app")
    }


def test_first_refresh_counts_every_day_by_channel_and_status():
    users = UserFactory.create_batch(3)
    old_day = datetime.date(2026, 11, 1)
    today = NOW.date()
    sent_on(old_day, users[:2])
    sent_on(today, users)
    first = Delivery.objects.filter(channel="email").order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(status="sent")

    refresh_rollups(NOW)

    assert counts(day=old_day) == {
        (old_day, "email", "sent"): 1,
        (old_day, "email", "pending"): 1,
    }
    assert counts(day=today) == {(today, "email", "pending"): 3}
    assert DeliveryDay.objects.get(day=today, channel="in_app", status="pending").count == 3


def test_a_later_refresh_recounts_open_days_and_keeps_closed_ones():
    users = UserFactory.create_batch(2)
    closed_day = datetime.date(2026, 11, 20)
    today = NOW.date()
    sent_on(closed_day, users, channels=("email",))
    refresh_rollups(NOW)
    # A closed day's rows change (an old retry finally failed): its count stays as counted.
    Delivery.objects.filter(created_at__date=closed_day).update(status="failed", last_error="x")
    sent_on(today, users, channels=("email",))
    Delivery.objects.filter(created_at__date=today).update(status="sent")

    refresh_rollups(NOW + datetime.timedelta(minutes=5))

    assert counts() == {(closed_day, "email", "pending"): 2, (today, "email", "sent"): 2}
    mark = RollupMark.objects.get(source="deliveries")
    assert mark.day == datetime.date(2026, 11, 28)
    first_today = Delivery.objects.filter(created_at__date=today).order_by("id").first()
    assert mark.first_id == first_today.id


def test_failures_are_counted_by_channel_and_reason():
    users = UserFactory.create_batch(3)
    sent_on(NOW.date(), users, channels=("email",))
    ids = list(Delivery.objects.filter(channel="email").order_by("id").values_list("id", flat=True))
    Delivery.objects.filter(id__in=ids[:2]).update(status="failed", last_error="invalid address")
    Delivery.objects.filter(id=ids[2]).update(status="failed", last_error="gateway timeout")

    refresh_rollups(NOW)

    assert {(f.channel, f.reason): f.count for f in FailureDay.objects.all()} == {
        ("email", "invalid address"): 2,
        ("email", "gateway timeout"): 1,
    }


def test_responses_are_counted_in_buckets_from_sending_to_reading():
    users = UserFactory.create_batch(5)
    _, sent = sent_on(NOW.date(), users, channels=(), ack=True)
    rows = list(NotificationRecipient.objects.order_by("user_id"))
    delays = [
        datetime.timedelta(minutes=2),
        datetime.timedelta(minutes=30),
        datetime.timedelta(hours=5),
        datetime.timedelta(days=3),
    ]
    for row, delay in zip(rows, delays, strict=False):
        NotificationRecipient.objects.filter(pk=row.pk).update(read_at=sent + delay)
    NotificationRecipient.objects.filter(pk=rows[0].pk).update(acknowledged_at=sent + delays[1])

    refresh_rollups(NOW)

    read = {r.bucket: r.count for r in ResponseDay.objects.filter(response="read")}
    assert read == {"5m": 1, "1h": 1, "1d": 1, "later": 1, "never": 1}
    acknowledged = {r.bucket: r.count for r in ResponseDay.objects.filter(response="acknowledged")}
    assert acknowledged == {"1h": 1, "never": 4}


def test_doses_are_counted_by_the_day_they_were_due():
    due = datetime.datetime(2026, 11, 29, 8, tzinfo=ZA)
    DoseFactory(due_at=due, status=Dose.Status.TAKEN)
    DoseFactory(due_at=due, status=Dose.Status.MISSED)
    DoseFactory(due_at=due + datetime.timedelta(days=1), status=Dose.Status.TAKEN)

    refresh_rollups(NOW)

    assert {(d.day, d.status): d.count for d in DoseDay.objects.all()} == {
        (datetime.date(2026, 11, 29), "taken"): 1,
        (datetime.date(2026, 11, 29), "missed"): 1,
        (datetime.date(2026, 11, 30), "taken"): 1,
    }


def test_a_day_is_the_clinics_day_not_utc():
    user = UserFactory()
    sent_on(NOW.date(), [user], channels=("email",))
    # 23:30 on the 29th in UTC is 01:30 on the 30th in Johannesburg.
    late = datetime.datetime(2026, 11, 29, 23, 30, tzinfo=datetime.UTC)
    Delivery.objects.filter(channel="email").update(created_at=late)

    refresh_rollups(NOW)

    assert counts() == {(datetime.date(2026, 11, 30), "email", "pending"): 1}
