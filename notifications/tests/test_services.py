"""NotificationService records sends as the seed shows, in bulk, and validates first."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationRecipient,
    UserNotificationPreferences,
)
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_seed_snippet_send_medication_reminder_records_in_app_and_email() -> None:
    UserFactory(id=1, username="thandi")

    # As the seed document shows it:
    user = User.objects.get(id=1)
    result = NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", instructions="Take with food"
    )

    assert result.recipients == 1
    assert result.notification.notification_type == "medication"
    assert result.notification.context["medication_name"] == "Aspirin"
    assert result.channels["in_app"].queued == 1
    assert result.channels["email"].queued == 1
    # SMS is off by default, and the user has no push device.
    assert result.channels["sms"].skipped_reasons == {"channel_disabled": 1}
    assert result.channels["push"].skipped_reasons == {"no_address": 1}
    assert set(Delivery.objects.filter(recipient__user=user).values_list("channel", "status")) == {
        ("in_app", "pending"),
        ("email", "pending"),
    }


def test_seed_snippet_send_system_notification_reaches_only_active_staff() -> None:
    staff = [UserFactory(user_type="staff") for _ in range(3)]
    UserFactory(user_type="staff", is_active=False)
    UserFactory(user_type="patient")

    result = NotificationService.send_system_notification(
        title="System Maintenance",
        content="Scheduled maintenance tonight at 2 AM",
        priority="medium",
        target_user_types=["staff"],
    )

    assert result.recipients == 3
    assert set(result.notification.recipients.values_list("user_id", flat=True)) == {
        user.pk for user in staff
    }


def test_seed_snippet_create_then_send_to_user_adds_email_once() -> None:
    user = UserFactory()

    notification = NotificationService.create_notification(
        title="Important Update",
        content="Your medication schedule has been updated",
        notification_type="medication",
        priority="high",
        target_users=[user],
        require_acknowledgment=True,
    )
    result = NotificationService.send_notification_to_user(
        user=user, notification=notification, channels=["email", "in_app"]
    )

    assert isinstance(notification, Notification)
    assert notification.pk is not None
    assert notification.require_acknowledgment is True
    # In-app was recorded by create_notification; the send adds only the email.
    assert result.channels["email"].queued == 1
    assert result.channels["in_app"].skipped_reasons == {"duplicate": 1}
    assert NotificationRecipient.objects.filter(notification=notification).count() == 1
    assert sorted(
        Delivery.objects.filter(recipient__notification=notification).values_list(
            "channel", flat=True
        )
    ) == ["email", "in_app"]


def test_seed_snippet_preferences_get_or_create_with_strings() -> None:
    user = UserFactory()

    preferences, created = UserNotificationPreferences.objects.get_or_create(
        user=user,
        defaults={
            "email_notifications_enabled": True,
            "push_notifications_enabled": True,
            "quiet_hours_enabled": True,
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "08:00",
        },
    )
    preferences.email_time_preference = "morning"
    preferences.save()

    assert created is True
    assert preferences.quiet_hours_start == datetime.time(22, 0)
    preferences.refresh_from_db()
    assert preferences.quiet_hours_end == datetime.time(8, 0)
    assert preferences.email_time_preference == "morning"


def test_a_bad_time_string_is_refused_naming_the_field() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        UserNotificationPreferences(quiet_hours_start="25:00")
    assert "quiet_hours_start" in error.value.message_dict


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"notification_type": "gossip"}, "'gossip'"),
        ({"priority": "urgent"}, "'urgent'"),
        ({"event": "birthday"}, "'birthday'"),
    ],
)
def test_unknown_type_priority_or_event_raises_naming_it_and_writes_nothing(
    kwargs: dict[str, str], named: str
) -> None:
    user = UserFactory()
    arguments = {
        "title": "Hello",
        "content": "World",
        "notification_type": "general",
        "priority": "low",
        "target_users": [user],
        **kwargs,
    }

    with pytest.raises(ValueError, match=named):
        NotificationService.create_notification(**arguments)

    assert Notification.objects.count() == 0
    assert NotificationRecipient.objects.count() == 0


def test_unknown_channel_raises_naming_it_and_writes_nothing() -> None:
    user = UserFactory()

    with pytest.raises(ValueError, match="'fax'"):
        NotificationService.send_medication_reminder(
            user=user, medication_name="Aspirin", dosage="100mg", channels=["email", "fax"]
        )
    with pytest.raises(ValueError, match="'pager'"):
        NotificationService.send_system_notification(
            title="x", content="y", target_user_types=["pager"]
        )

    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_the_same_idempotency_key_twice_is_one_notification_and_one_set_of_deliveries() -> None:
    user = UserFactory()

    first = NotificationService.send_medication_reminder(
        user=user, medication_name="Metformin", dosage="500mg", idempotency_key="dose-7-2026-11-28"
    )
    second = NotificationService.send_medication_reminder(
        user=user, medication_name="Metformin", dosage="500mg", idempotency_key="dose-7-2026-11-28"
    )

    assert second.notification.pk == first.notification.pk
    assert second.queued == 0
    assert second.channels["email"].skipped_reasons == {"duplicate": 1}
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 2


def test_a_user_without_preferences_gets_the_defaults() -> None:
    user = UserFactory()
    assert not UserNotificationPreferences.objects.filter(user=user).exists()

    result = NotificationService.send_notification_to_user(
        user, NotificationService.create_notification("Hi", "There", "general", "low")
    )

    assert result.channels["in_app"].queued == 1
    assert result.channels["email"].queued == 1
    assert result.channels["sms"].skipped_reasons == {"channel_disabled": 1}
    assert result.channels["push"].skipped_reasons == {"no_address": 1}


def test_channel_and_category_opt_outs_are_respected_at_send() -> None:
    user = UserFactory()
    PreferencesFactory(user=user, email_notifications_enabled=False, sms_notifications_enabled=True)
    PushDeviceFactory(user=user)
    user.set_phone("082 123 4567", verified=True)  # as staff set it
    user.save()
    muted = UserFactory()
    PreferencesFactory(user=muted, medication_reminders_enabled=False)

    mine = NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg"
    )
    theirs = NotificationService.send_medication_reminder(
        user=muted, medication_name="Aspirin", dosage="100mg"
    )

    assert {name: counts.queued for name, counts in mine.channels.items()} == {
        "in_app": 1,
        "email": 0,
        "sms": 1,
        "push": 1,
    }
    assert mine.channels["email"].skipped_reasons == {"channel_disabled": 1}
    assert theirs.queued == 0
    assert theirs.channels["in_app"].skipped_reasons == {"category_disabled": 1}
    # Nothing to show in the app either: the recipient row is hidden.
    assert not NotificationRecipient.objects.get(user=muted).in_app


def test_quiet_hours_defer_email_but_not_the_in_app_copy(time_machine) -> None:
    # 23:30 in Johannesburg.
    time_machine.move_to(datetime.datetime(2026, 11, 28, 21, 30, tzinfo=datetime.UTC), tick=False)
    user = UserFactory()
    PreferencesFactory(
        user=user, quiet_hours_enabled=True, quiet_hours_start="22:00", quiet_hours_end="07:00"
    )

    result = NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", priority="high"
    )

    assert result.channels["in_app"].queued == 1
    assert result.channels["email"].deferred == 1
    email = Delivery.objects.get(channel="email")
    assert email.status == DeliveryStatus.PENDING
    assert email.not_before == datetime.datetime(2026, 11, 29, 5, 0, tzinfo=datetime.UTC)
    assert email.enqueued_at is None


def test_a_1000_recipient_send_runs_a_constant_number_of_queries_per_batch(settings) -> None:
    settings.NOTIFICATION_WRITE_BATCH_SIZE = 250
    User.objects.bulk_create(
        [User(username=f"bulk{i:04d}", email=f"bulk{i}@example.org") for i in range(1000)]
    )
    notification = NotificationService.create_notification("Hello", "All", "general", "low")
    pks = list(
        User.objects.filter(username__startswith="bulk").order_by("pk").values_list("pk", flat=True)
    )

    def queries_for(count: int) -> int:
        NotificationRecipient.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            NotificationService.send_notification_to_users(
                User.objects.filter(pk__in=pks[:count]), notification
            )
        return len(captured.captured_queries)

    counts = [queries_for(250 * batches) for batches in (1, 2, 4)]

    per_batch = counts[1] - counts[0]
    assert counts[2] - counts[1] == 2 * per_batch  # linear in batches, nothing per user
    if connection.vendor == "postgresql":
        # Users page, preferences, push devices, and one statement inserting the
        # recipients with their deliveries.
        assert per_batch == 4
    assert Delivery.objects.filter(channel="email").count() == 1000
    assert Delivery.objects.filter(channel="in_app").count() == 1000


@pytest.mark.django_db(transaction=True)
def test_a_broadcast_read_ahead_batch_by_batch_reaches_every_user_once(settings) -> None:
    # Outside a transaction on PostgreSQL, the next batch is read and decided in a reader
    # thread while this one is written (elsewhere, in turn): the outcome is the same.
    settings.NOTIFICATION_WRITE_BATCH_SIZE = 7
    User = get_user_model()
    for _ in range(30):
        UserFactory()
    PreferencesFactory(user=UserFactory(), email_notifications_enabled=False)
    notification = NotificationService.create_notification(
        "Pharmacy closed", "Closed on Monday.", "system", "medium", target_users=[]
    )

    first = NotificationService.send_notification_to_users(User.objects.all(), notification)
    again = NotificationService.send_notification_to_users(User.objects.all(), notification)

    assert first.recipients == 31
    assert first.channels["in_app"].queued == 31
    assert first.channels["email"].queued == 30
    assert first.channels["email"].skipped_reasons == {"channel_disabled": 1}
    assert again.queued == 0
    assert again.channels["in_app"].skipped_reasons == {"duplicate": 31}
    assert NotificationRecipient.objects.filter(notification=notification).count() == 31
    assert Delivery.objects.filter(recipient__notification=notification).count() == 61
