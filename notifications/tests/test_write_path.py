"""One write path on both databases: a statement's own rows are the rows it returns.

These run on whichever database the suite runs on (SQLite by default; PostgreSQL with
DATABASE_URL): the frozen clock is what used to make SQLite report another send's rows.
"""

from __future__ import annotations

import datetime

import pytest

from medguard_backend.row_inserts import RowInsert
from medguard_backend.testing.factories import UserFactory
from medications.dose_writes import create_doses
from medications.models import Dose, DoseEscalation, Medicine, Schedule, Supply
from notifications.models import Delivery, DeliveryStatus, NotificationRecipient
from notifications.services import NotificationDraft, NotificationService

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


def test_an_email_sent_after_the_in_app_copy_under_a_frozen_clock_counts_only_the_email(
    frozen: None,
) -> None:
    user = UserFactory(email="thandi@example.org")
    notification = NotificationService.create_notification(
        "Clinic closed", "Closed on Monday.", "system", "medium", target_users=[user]
    )

    result = NotificationService.send_notification_to_user(user, notification, channels=["email"])

    assert result.as_dict()["channels"] == {
        "email": {"queued": 1, "deferred": 0, "skipped": 0, "skipped_reasons": {}}
    }
    assert sorted(
        Delivery.objects.filter(recipient__notification=notification).values_list(
            "channel", "status", "created_at"
        )
    ) == [("email", DeliveryStatus.PENDING, NOW), ("in_app", DeliveryStatus.PENDING, NOW)]


def test_two_sends_sharing_a_timestamp_each_count_their_own_rows(frozen: None) -> None:
    first_user, second_user = UserFactory(), UserFactory()
    first, second = (
        NotificationService.create_notification(title, "Body", "system", "low", target_users=[])
        for title in ("First", "Second")
    )

    one = NotificationService.send_notification_to_users([first_user], first, ["in_app", "email"])
    two = NotificationService.send_notification_to_users([second_user], second, ["email"])
    again = NotificationService.send_notification_to_users([second_user], second, ["email"])

    assert (one.channels["in_app"].queued, one.channels["email"].queued) == (1, 1)
    assert list(two.channels) == ["email"]
    assert (two.recipients, two.channels["email"].queued) == (1, 1)
    assert again.channels["email"].queued == 0
    assert again.channels["email"].skipped_reasons == {"duplicate": 1}
    assert sorted(
        Delivery.objects.values_list("recipient__notification__title", "recipient__user", "channel")
    ) == [
        ("First", first_user.pk, "email"),
        ("First", first_user.pk, "in_app"),
        ("Second", second_user.pk, "email"),
    ]


def test_two_batches_of_drafts_sharing_a_timestamp_each_count_their_own_rows(
    frozen: None,
) -> None:
    users = [UserFactory() for _ in range(3)]

    def drafts(*indexes: int) -> list[NotificationDraft]:
        return [
            NotificationDraft(
                user_id=users[i].pk,
                event="custom",
                notification_type="system",
                priority="low",
                idempotency_key=f"batch-{i}",
                title="Hello",
                content="Hello",
            )
            for i in indexes
        ]

    first = NotificationService.send_notifications(drafts(0, 1), channels=["in_app"])
    second = NotificationService.send_notifications(drafts(1, 2), channels=["in_app"])

    assert (first.recipients, first.channels["in_app"].queued) == (2, 2)
    assert second.recipients == 2  # both addressed; the repeated one writes nothing new
    assert second.channels["in_app"].queued == 1
    assert second.channels["in_app"].skipped_reasons == {"duplicate": 1}
    assert sorted(
        NotificationRecipient.objects.values_list("notification__idempotency_key", "user")
    ) == [(f"batch-{i}", users[i].pk) for i in range(3)]


def test_doses_created_at_the_same_moment_by_two_runs_belong_each_to_its_run() -> None:
    medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
    schedules = [
        Schedule.objects.create(
            supply=Supply.objects.create(patient=UserFactory(), medicine=medicine, dosage="1"),
            slot="morning",
            start_date=NOW.date(),
        )
        for _ in range(3)
    ]
    due = NOW + datetime.timedelta(hours=2)

    mine = create_doses([(schedules[0].pk, due), (schedules[1].pk, due)], NOW)
    theirs = create_doses([(schedules[1].pk, due), (schedules[2].pk, due)], NOW)

    doses = dict(Dose.objects.values_list("schedule_id", "id"))
    assert mine == {
        schedules[0].pk: doses[schedules[0].pk],
        schedules[1].pk: doses[schedules[1].pk],
    }
    assert theirs == {schedules[2].pk: doses[schedules[2].pk]}
    assert set(Dose.objects.values_list("status", "reminded_at", "snooze_count")) == {
        (Dose.Status.PENDING, NOW, 0)
    }


def test_a_not_null_column_without_a_default_must_be_supplied_on_every_database() -> None:
    with pytest.raises(TypeError, match=r"medications.DoseEscalation.notified_at is NOT NULL"):
        RowInsert(DoseEscalation, ("dose", "caregiver"))


def test_a_shared_value_for_a_field_the_model_lacks_is_refused() -> None:
    with pytest.raises(TypeError, match=r"notifications.Delivery has no field colour"):
        RowInsert(Delivery, ("recipient", "channel"), colour="red")
