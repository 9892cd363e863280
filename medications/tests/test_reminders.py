"""Dose reminders: slot tasks, the dispatcher, time zones, weekdays, and one reminder per dose."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from medguard_backend.testing.factories import UserFactory
from medications import followups, reminders
from medications.models import Dose, Medicine, Schedule, Supply
from notifications.models import Notification
from notifications.services import NotificationService

UTC = datetime.UTC
MONDAY = datetime.date(2026, 11, 30)


def at(day: datetime.date, hour: int, minute: int = 0, tz: str = "Africa/Johannesburg"):
    from zoneinfo import ZoneInfo

    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=ZoneInfo(tz))


def make_schedule(patient, slot="morning", *, custom_time=None, days=0b1111111, name="Aspirin"):
    medicine, _ = Medicine.objects.get_or_create_named(name, strength="100 mg")
    supply = Supply.objects.create(
        patient=patient,
        medicine=medicine,
        dosage="1 tablet",
        instructions="With food",
        quantity_on_hand=Decimal(30),
    )
    return Schedule.objects.create(
        supply=supply,
        slot=slot,
        custom_time=custom_time,
        days_of_week=days,
        start_date=MONDAY - datetime.timedelta(days=7),
    )


def reminded_patients() -> list[str]:
    return sorted(
        Notification.objects.filter(event="medication_reminder").values_list(
            "recipients__user__username", flat=True
        )
    )


@pytest.fixture
def thandi(db):
    return UserFactory(username="thandi", timezone="Africa/Johannesburg")


@pytest.fixture
def oliver(db):
    return UserFactory(username="oliver", timezone="Europe/London")


def test_morning_slot_reminds_patients_whose_local_morning_it_is(thandi, oliver) -> None:
    make_schedule(thandi)
    make_schedule(oliver)

    summary = reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))

    assert reminded_patients() == ["thandi"]
    assert summary.reminded == 1
    dose = Dose.objects.get()
    assert dose.due_at == at(MONDAY, 8, 0)
    assert dose.status == Dose.Status.PENDING


def test_the_dispatcher_reminds_a_patient_abroad_at_their_own_slot_time(thandi, oliver) -> None:
    make_schedule(thandi)
    make_schedule(oliver)
    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))

    # 08:00 in London is 10:00 in Johannesburg.
    summary = reminders.send_due_reminders(now=at(MONDAY, 8, 0, "Europe/London"))

    assert reminded_patients() == ["oliver", "thandi"]
    assert summary.reminded == 1
    assert Dose.objects.get(schedule__supply__patient=oliver).due_at == at(
        MONDAY, 8, 0, "Europe/London"
    )


def test_a_schedule_not_running_today_is_not_reminded(thandi) -> None:
    make_schedule(thandi, days=0b0000010)  # Tuesdays only

    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))

    assert reminded_patients() == []


def test_paused_and_ended_schedules_are_not_reminded(thandi) -> None:
    paused = make_schedule(thandi)
    paused.paused = True
    paused.save()
    ended = make_schedule(thandi, name="Ibuprofen")
    ended.end_date = MONDAY - datetime.timedelta(days=1)
    ended.save()

    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))

    assert reminded_patients() == []


def test_a_slot_run_twice_reminds_each_dose_once(thandi) -> None:
    make_schedule(thandi)

    first = reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
    second = reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 1))
    dispatcher = reminders.send_due_reminders(now=at(MONDAY, 8, 10))

    assert (first.reminded, second.reminded, dispatcher.reminded) == (1, 0, 0)
    assert second.already_reminded == 1
    assert Notification.objects.filter(event="medication_reminder").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_slot_run_concurrently_reminds_each_dose_once() -> None:
    patients = [UserFactory() for _ in range(40)]
    for patient in patients:
        make_schedule(patient)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    if connection.vendor == "sqlite":
        # SQLite serialises writers: a run may wait for the lock and fail with "locked";
        # whatever ran must still have reminded each dose once.
        errors = [e for e in errors if "locked" not in str(e)]
    assert errors == []
    assert Dose.objects.count() == 40
    assert Notification.objects.filter(event="medication_reminder").count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_slot_written_by_writer_threads_reminds_each_dose_once(settings) -> None:
    # Small batches, two writers (threads on PostgreSQL, the caller's thread on SQLite).
    settings.NOTIFICATION_WRITE_BATCH_SIZE = 7
    settings.BATCH_WRITER_THREADS = 2
    for _ in range(30):
        make_schedule(UserFactory())

    first = reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
    again = reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 5))

    assert (first.schedules, first.reminded, first.batches) == (30, 30, 5)
    assert first.deliveries_queued == 60  # in-app and email each
    assert (again.reminded, again.already_reminded) == (0, 30)
    assert Dose.objects.count() == 30
    assert Notification.objects.filter(event="medication_reminder").count() == 30


def test_a_custom_time_is_reminded_by_the_dispatcher_within_a_minute(thandi) -> None:
    make_schedule(thandi, "custom", custom_time=datetime.time(9, 15))

    early = reminders.send_due_reminders(now=at(MONDAY, 9, 14))
    on_time = reminders.send_due_reminders(now=at(MONDAY, 9, 15) + datetime.timedelta(seconds=30))

    assert (early.reminded, on_time.reminded) == (0, 1)
    assert Dose.objects.get().due_at == at(MONDAY, 9, 15)


def test_the_dispatcher_catches_up_a_slot_dose_the_slot_task_missed(thandi) -> None:
    make_schedule(thandi)

    head_start = reminders.send_due_reminders(now=at(MONDAY, 8, 2))
    catch_up = reminders.send_due_reminders(now=at(MONDAY, 8, 6))

    assert (head_start.reminded, catch_up.reminded) == (0, 1)


def test_the_reminder_names_the_medicine_and_time_in_its_context(thandi) -> None:
    make_schedule(thandi)

    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))

    notification = Notification.objects.get(event="medication_reminder")
    assert notification.context["medication_name"] == "Aspirin 100 mg"
    assert notification.context["dosage"] == "1 tablet"
    assert notification.priority == "high"
    assert notification.idempotency_key == f"dose-{Dose.objects.get().pk}"


def test_manual_reminder_reminds_todays_dose_once(thandi) -> None:
    schedule = make_schedule(thandi)

    first = reminders.remind_schedule_now(schedule.pk, now=at(MONDAY, 7, 0))
    second = reminders.remind_schedule_now(schedule.pk, now=at(MONDAY, 7, 1))

    assert first["reminded"] is True
    assert first["due_at"] == at(MONDAY, 8, 0).astimezone(UTC).isoformat()
    assert (
        second
        == first
        | {"reminded": False, "reason": "already reminded"}
        | {k: second[k] for k in ("deliveries_queued",) if k in second}
        or second["reason"] == "already reminded"
    )
    assert Notification.objects.filter(event="medication_reminder").count() == 1


def test_snoozed_dose_is_reminded_again_when_the_snooze_is_over(thandi) -> None:
    make_schedule(thandi)
    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
    Dose.objects.update(status=Dose.Status.SNOOZED, snoozed_until=at(MONDAY, 8, 10), snooze_count=1)

    before = followups.follow_up(now=at(MONDAY, 8, 9))
    after = followups.follow_up(now=at(MONDAY, 8, 10))
    again = followups.follow_up(now=at(MONDAY, 8, 11))

    assert (before.re_reminded, after.re_reminded, again.re_reminded) == (0, 1, 0)
    assert Notification.objects.filter(event="medication_reminder").count() == 2
    assert Dose.objects.get().status == Dose.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_two_snooze_runs_in_the_same_instant_each_remind_only_the_doses_they_took() -> None:
    # A frozen clock: both runs stamp reminded_at with the same time, so reading the rows
    # back by that time would give each run the other's doses too.
    now = at(MONDAY, 8, 10)
    for _ in range(3):
        make_schedule(UserFactory())
    reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
    Dose.objects.update(status=Dose.Status.SNOOZED, snoozed_until=now, snooze_count=1)
    first_has_read, second_is_done = threading.Event(), threading.Event()
    reminded: dict[str, int] = {}
    errors: list[BaseException] = []

    def pause_after_reading_the_doses(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and '"medications_dose"' in sql and not first_has_read.is_set():
            first_has_read.set()
            # PostgreSQL: the second run skips the rows locked here and ends. SQLite: it
            # waits for this run's write lock, so this one goes on after a while.
            second_is_done.wait(2)
        return result

    def first() -> None:
        try:
            with connection.execute_wrapper(pause_after_reading_the_doses):
                reminded["first"] = followups.remind_snoozed(now)
        except BaseException as error:  # reported below
            errors.append(error)
            first_has_read.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_has_read.wait(10)
            reminded["second"] = followups.remind_snoozed(now)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            second_is_done.set()
            connections.close_all()

    with time_machine.travel(now, tick=False):
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert reminded == {"first": 3, "second": 0}
    assert set(Dose.objects.values_list("status", "reminded_at")) == {(Dose.Status.PENDING, now)}
    snoozed_again = Notification.objects.filter(idempotency_key__endswith="-snooze-1")
    assert snoozed_again.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_snoozed_dose_and_a_new_send_in_the_same_instant_are_reminded_once_each() -> None:
    # The frozen-clock send of issue 10, through the snooze path: a send in the same
    # instant must not be taken for the snooze run's rows, nor the other way round.
    now = at(MONDAY, 8, 10)
    thandi, sipho = UserFactory(), UserFactory()
    make_schedule(thandi)
    with time_machine.travel(now, tick=False):
        reminders.send_slot_reminders("morning", now=at(MONDAY, 8, 0))
        Dose.objects.update(status=Dose.Status.SNOOZED, snoozed_until=now, snooze_count=1)
        notice = NotificationService.create_notification(
            "Clinic closed", "Friday", "general", "low", target_users=[sipho]
        )

        assert followups.remind_snoozed(now) == 1
        result = NotificationService.send_notification_to_user(sipho, notice, channels=["email"])

    assert result.queued == 1
    assert Notification.objects.filter(idempotency_key__endswith="-snooze-1").count() == 1


def test_slot_reminders_run_a_constant_number_of_queries_per_batch(db, settings) -> None:
    settings.NOTIFICATION_WRITE_BATCH_SIZE = 20
    medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
    for i in range(80):
        patient = UserFactory(username=f"p{i:03d}")
        supply = Supply.objects.create(patient=patient, medicine=medicine, dosage="1 tablet")
        Schedule.objects.create(supply=supply, slot="morning", start_date=MONDAY)

    def queries_for(patients: int, day: datetime.date) -> int:
        Schedule.objects.filter(supply__patient__username__gte=f"p{patients:03d}").update(
            paused=True
        )
        with CaptureQueriesContext(connection) as captured:
            reminders.send_slot_reminders("morning", now=at(day, 8, 0))
        Schedule.objects.update(paused=False)
        return len(captured.captured_queries)

    one, two, four = (
        queries_for(20, MONDAY),
        queries_for(40, MONDAY + datetime.timedelta(days=1)),
        queries_for(80, MONDAY + datetime.timedelta(days=2)),
    )

    per_batch = two - one
    assert four - two == 2 * per_batch
    if connection.vendor == "postgresql":
        # Schedules page, doses (one INSERT ... RETURNING), notifications, users,
        # preferences, push devices, recipients with their deliveries (one statement);
        # and two savepoints (SAVEPOINT + RELEASE each).
        assert per_batch == 11
