"""Medication flows end to end with a real Celery worker and a real SMTP server."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from medications.models import CaregiverLink, Dose, Medicine, Schedule, Supply
from medications.tasks import dispatch_due_reminders
from notifications.models import Delivery

pytestmark = pytest.mark.worker


def make_schedule(patient) -> Schedule:
    medicine = Medicine.objects.create(name="Warfarin", strength="5 mg")
    supply = Supply.objects.create(
        patient=patient, medicine=medicine, dosage="1 tablet", quantity_on_hand=Decimal(20)
    )
    return Schedule.objects.create(
        supply=supply, slot="morning", start_date=timezone.localdate() - datetime.timedelta(1)
    )


def wait_for_sent_emails(count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Delivery.objects.filter(channel="email", status="sent").count() >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} emails sent after {timeout}s")


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_seed_manual_test_reminds_schedule_1_and_returns_a_summary(
    start_worker, smtp_server
) -> None:
    patient = UserFactory(username="thandi", email="thandi@example.org")
    make_schedule(patient)
    start_worker(**smtp_server.environ())

    # As the seed's "Manual Testing" shows it:
    from notifications.tasks import send_medication_reminder

    result = send_medication_reminder.delay(schedule_id=1)
    summary = result.get(timeout=60)
    again = send_medication_reminder.delay(schedule_id=1).get(timeout=60)

    assert summary["schedule_id"] == 1
    assert summary["reminded"] is True
    assert summary["dose_id"] == Dose.objects.get().pk
    assert again["reminded"] is False
    assert again["reason"] == "already reminded"
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "thandi@example.org"
    # The mail preview shows no medicine name: Thandi did not choose to show it.
    assert message["Subject"] == "Time to take your medication"
    time.sleep(2)
    assert len(smtp_server.messages) == 1


def test_a_missed_dose_is_escalated_to_each_caregiver_after_their_delay(
    start_worker, smtp_server
) -> None:
    patient = UserFactory(username="thandi", first_name="Thandi", last_name="Mokoena")
    prompt = UserFactory(username="naledi", user_type="caregiver", email="naledi@example.org")
    patient_one = UserFactory(username="sipho", user_type="caregiver", email="sipho@example.org")
    PreferencesFactory(user=patient)  # the patient's own email is beside the point here
    CaregiverLink.objects.create(patient=patient, caregiver=prompt, escalation_delay_minutes=0)
    CaregiverLink.objects.create(
        patient=patient,
        caregiver=patient_one,
        escalation_delay_minutes=120,
        can_see_medication_details=True,
    )
    schedule = make_schedule(patient)
    # Reminded two hours ago and never recorded: past the 60-minute grace period.
    due = timezone.now() - datetime.timedelta(hours=2)
    Dose.objects.create(schedule=schedule, due_at=due, reminded_at=due)
    start_worker(**smtp_server.environ())

    first = dispatch_due_reminders.delay().get(timeout=60)
    second = dispatch_due_reminders.delay().get(timeout=60)
    [message] = smtp_server.wait_for(1)
    wait_for_sent_emails(1)
    time.sleep(2)

    assert first["follow_up"] == {"re_reminded": 0, "missed": 1, "escalated": 1}
    assert second["follow_up"] == {"re_reminded": 0, "missed": 0, "escalated": 0}
    assert Dose.objects.get().status == Dose.Status.MISSED
    # Only the caregiver with no delay has heard, once, with the patient's name and the
    # time but not the medicine (her link does not allow it).
    assert [m["To"] for m in smtp_server.messages] == ["naledi@example.org"]
    body = message.get_body(("plain",)).get_content()
    assert "Thandi" in body
    assert "Warfarin" not in body
    assert "Warfarin" not in message["Subject"]


def pages_written(worker) -> int:
    return sum("remind_page[" in line and "succeeded" in line for line in worker.log().splitlines())


def wait_for_pages(worker, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while pages_written(worker) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pages_written(worker) == count


@pytest.mark.django_db(transaction=True)
def test_a_slot_is_written_by_the_workers_page_by_page_and_once(start_worker, settings) -> None:
    from medications.reminders import send_slot_reminders

    settings.NOTIFICATION_WRITE_BATCH_SIZE = 2
    medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
    patients = [UserFactory(timezone="Africa/Johannesburg") for _ in range(5)]
    for patient in patients:
        supply = Supply.objects.create(
            patient=patient, medicine=medicine, dosage="1 tablet", quantity_on_hand=Decimal(20)
        )
        Schedule.objects.create(
            supply=supply, slot="morning", start_date=timezone.localdate() - datetime.timedelta(1)
        )
    worker = start_worker(queues=("medications",), NOTIFICATION_WRITE_BATCH_SIZE="2")
    morning = datetime.datetime.combine(
        timezone.localdate(), datetime.time(8, 0), tzinfo=patients[0].timezone
    )

    first = send_slot_reminders("morning", now=morning, pages_as_tasks=True)
    # Ids only here: the pages' doses and reminders are written by the worker.
    assert (first.pages_published, first.schedules, first.reminded) == (3, 5, 0)
    wait_for_pages(worker, 3)
    assert sorted(Dose.objects.values_list("schedule__supply__patient", flat=True)) == sorted(
        p.pk for p in patients
    )

    again = send_slot_reminders("morning", now=morning, pages_as_tasks=True)
    assert again.pages_published == 3
    wait_for_pages(worker, 6)
    assert Dose.objects.count() == 5
    assert Delivery.objects.values("recipient__notification").distinct().count() == 5
    assert "'already_reminded': 2" in worker.log()
