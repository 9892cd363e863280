"""The "Today" page and its one-tap dose buttons."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from medications.models import Dose, Schedule, Supply
from medications.reminders import remind_schedule_now
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory

pytestmark = pytest.mark.django_db

# 07:30 in Johannesburg on Monday 2 March 2026.
NOW = datetime.datetime(2026, 3, 2, 5, 30, tzinfo=datetime.UTC)
MORNING = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.UTC)  # 08:00 local


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def reminded_dose(patient, **fields):
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient, medicine__name="Metformin"))
    return DoseFactory(schedule=schedule, due_at=MORNING, **fields)


@pytest.mark.parametrize("path", ["/me/", "/me/medicines/add/", "/me/caregivers/"])
def test_a_stranger_is_sent_to_the_sign_in_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_today_lists_the_doses_of_the_patients_own_day_with_their_local_times(signed_in, patient):
    supply = SupplyFactory(patient=patient, medicine__name="Metformin", medicine__strength="500 mg")
    ScheduleFactory(supply=supply, slot=Schedule.Slot.EVENING)
    ScheduleFactory(supply=supply, slot=Schedule.Slot.CUSTOM, custom_time=datetime.time(12, 15))
    ScheduleFactory(supply=supply, slot=Schedule.Slot.MORNING, days_of_week=0b0000010)  # Tue

    response = signed_in.get("/me/")

    assert response.status_code == 200
    times = [item.due_at.astimezone(patient.timezone).time() for item in response.context["doses"]]
    assert times == [datetime.time(12, 15), datetime.time(20, 0)]
    html = response.content.decode()
    assert "12:15" in html
    assert "20:00" in html
    assert "Metformin 500 mg" in html


def test_take_marks_the_dose_taken_lowers_the_stock_and_comes_back_with_a_message(
    signed_in, patient
):
    dose = reminded_dose(patient)

    response = signed_in.post(f"/me/doses/{dose.pk}/take/", follow=True)

    dose.refresh_from_db()
    assert dose.status == Dose.Status.TAKEN
    assert dose.recorded_by == patient
    assert Supply.objects.get(pk=dose.schedule.supply_id).quantity_on_hand == Decimal(29)
    assert response.redirect_chain == [("/me/", 302)]
    assert [str(m) for m in response.context["messages"]] == ["Dose recorded as taken."]


def test_a_second_tap_on_take_lowers_the_stock_only_once(signed_in, patient):
    dose = reminded_dose(patient)

    signed_in.post(f"/me/doses/{dose.pk}/take/")
    signed_in.post(f"/me/doses/{dose.pk}/take/")

    assert Supply.objects.get(pk=dose.schedule.supply_id).quantity_on_hand == Decimal(29)


def test_snooze_says_when_the_next_reminder_comes_in_the_patients_clock(signed_in, patient):
    dose = reminded_dose(patient)

    response = signed_in.post(f"/me/doses/{dose.pk}/snooze/", follow=True)

    dose.refresh_from_db()
    assert dose.status == Dose.Status.SNOOZED
    assert dose.snoozed_until == NOW + datetime.timedelta(minutes=10)
    assert [str(m) for m in response.context["messages"]] == ["We will remind you again at 07:40."]


def test_skipping_a_taken_dose_is_refused_with_a_message_and_changes_nothing(signed_in, patient):
    dose = reminded_dose(patient, status=Dose.Status.TAKEN)

    response = signed_in.post(f"/me/doses/{dose.pk}/skip/", follow=True)

    dose.refresh_from_db()
    assert dose.status == Dose.Status.TAKEN
    assert [str(m) for m in response.context["messages"]] == [
        "This dose was already taken, so it can no longer be skipped."
    ]


def test_someone_elses_dose_is_a_404_and_stays_as_it_was(signed_in, other_patient):
    dose = reminded_dose(other_patient)

    response = signed_in.post(f"/me/doses/{dose.pk}/take/")

    assert response.status_code == 404
    dose.refresh_from_db()
    assert dose.status == Dose.Status.PENDING


def test_dose_buttons_only_answer_a_post(signed_in, patient):
    dose = reminded_dose(patient)

    assert signed_in.get(f"/me/doses/{dose.pk}/take/").status_code == 405
    dose.refresh_from_db()
    assert dose.status == Dose.Status.PENDING


def test_a_dose_still_to_come_can_be_taken_early_and_is_then_not_reminded(signed_in, patient):
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))

    response = signed_in.post(
        f"/me/schedules/{schedule.pk}/upcoming/take/", {"due_at": MORNING.isoformat()}
    )

    assert response.status_code == 302
    dose = Dose.objects.get(schedule=schedule)
    assert (dose.due_at, dose.status) == (MORNING, Dose.Status.TAKEN)
    assert remind_schedule_now(schedule.pk)["reason"] == "already reminded"


def test_an_early_take_for_a_time_the_schedule_does_not_have_is_a_404(signed_in, patient):
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))

    response = signed_in.post(
        f"/me/schedules/{schedule.pk}/upcoming/take/",
        {"due_at": (MORNING + datetime.timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 404
    assert not Dose.objects.exists()
