"""My medicines: add with a schedule, change, times, restock, stop."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from medications.models import Medicine, Schedule, Supply
from medications.tests.factories import ScheduleFactory, SupplyFactory

pytestmark = pytest.mark.django_db

NEW_MEDICINE = {
    "name": "Amlodipine",
    "strength": "5 mg",
    "form": "tablet",
    "dosage": "1 tablet",
    "instructions": "With breakfast",
    "quantity_on_hand": "28",
    "unit": "tablets",
    "slot": "custom",
    "custom_time": "07:45",
    "days": ["1", "4", "16"],
    "dose_quantity": "1",
}


def test_adding_a_medicine_with_a_custom_time_writes_the_supply_and_its_schedule(
    signed_in, patient
):
    response = signed_in.post("/me/medicines/add/", NEW_MEDICINE)

    supply = Supply.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == f"/me/medicines/{supply.pk}/"
    assert (str(supply.medicine), supply.medicine.form, supply.dosage, supply.instructions) == (
        "Amlodipine 5 mg",
        "tablet",
        "1 tablet",
        "With breakfast",
    )
    assert (supply.quantity_on_hand, supply.unit) == (Decimal(28), "tablets")
    schedule = supply.schedules.get()
    assert (schedule.slot, schedule.custom_time, schedule.days_of_week) == (
        "custom",
        datetime.time(7, 45),
        0b0010101,
    )


def test_a_custom_slot_without_a_time_comes_back_with_the_error_by_the_field_and_writes_nothing(
    signed_in,
):
    response = signed_in.post("/me/medicines/add/", NEW_MEDICINE | {"custom_time": ""})

    assert response.status_code == 400
    assert response.context["schedule_form"].errors == {
        "custom_time": ["Choose a time for a custom schedule."]
    }
    assert not Supply.objects.exists()
    assert not Medicine.objects.exists()


def test_errors_come_in_afrikaans_for_an_afrikaans_speaker(client, other_patient):
    client.force_login(other_patient)

    response = client.post("/me/medicines/add/", NEW_MEDICINE | {"name": ""})

    assert response.status_code == 400
    assert response.context["medicine_form"].errors == {"name": ["Dié veld is verpligtend."]}
    assert '<html lang="af">' in response.content.decode()


def test_the_medicine_page_shows_days_of_supply_left(signed_in, patient):
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal(9))
    ScheduleFactory(supply=supply, slot=Schedule.Slot.MORNING)
    ScheduleFactory(supply=supply, slot=Schedule.Slot.EVENING)

    response = signed_in.get(f"/me/medicines/{supply.pk}/")

    assert response.context["item"].days_of_supply == Decimal("4.5")
    assert "9 tablets left," in response.content.decode()
    assert "enough for 4.5 days" in response.content.decode()


def test_restocking_adds_the_quantity_and_sets_the_new_expiry_date(signed_in, patient):
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal(2))

    response = signed_in.post(
        f"/me/medicines/{supply.pk}/restock/", {"quantity": "28", "expiry_date": "2027-06-30"}
    )

    supply.refresh_from_db()
    assert response.status_code == 302
    assert (supply.quantity_on_hand, supply.expiry_date) == (
        Decimal(30),
        datetime.date(2027, 6, 30),
    )


def test_a_restock_of_zero_is_refused_by_the_field_and_the_stock_is_unchanged(signed_in, patient):
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal(2))

    response = signed_in.post(f"/me/medicines/{supply.pk}/restock/", {"quantity": "0"})

    assert response.status_code == 400
    assert response.context["restock_form"].errors == {
        "quantity": ["Ensure this value is greater than or equal to 0.01."]
    }
    supply.refresh_from_db()
    assert supply.quantity_on_hand == Decimal(2)


def test_changing_how_a_medicine_is_taken_saves_the_dosage_and_instructions(signed_in, patient):
    supply = SupplyFactory(patient=patient)

    signed_in.post(
        f"/me/medicines/{supply.pk}/",
        {"dosage": "2 tablets", "instructions": "After meals", "warning_days": "7"},
    )

    supply.refresh_from_db()
    assert (supply.dosage, supply.instructions, supply.warning_days) == (
        "2 tablets",
        "After meals",
        7,
    )


def test_adding_and_removing_a_time(signed_in, patient):
    supply = SupplyFactory(patient=patient)

    signed_in.post(
        f"/me/medicines/{supply.pk}/schedules/",
        {"slot": "afternoon", "custom_time": "09:00", "days": ["64"], "dose_quantity": "0.5"},
    )
    schedule = supply.schedules.get()
    signed_in.post(f"/me/schedules/{schedule.pk}/remove/")

    schedule.refresh_from_db()
    # A slot keeps no custom time, whatever the form carried.
    assert (schedule.slot, schedule.custom_time, schedule.days_of_week) == ("afternoon", None, 64)
    assert schedule.dose_quantity == Decimal("0.5")
    assert schedule.paused is True


def test_stopping_a_medicine_ends_its_reminders_and_keeps_its_row(signed_in, patient):
    supply = SupplyFactory(patient=patient)
    schedule = ScheduleFactory(supply=supply)

    response = signed_in.post(f"/me/medicines/{supply.pk}/stop/")

    supply.refresh_from_db()
    schedule.refresh_from_db()
    assert response["Location"] == "/me/"
    assert (supply.active, schedule.paused) == (False, True)
    assert signed_in.get(f"/me/medicines/{supply.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/me/medicines/{supply}/"),
        ("post", "/me/medicines/{supply}/restock/"),
        ("post", "/me/medicines/{supply}/stop/"),
        ("post", "/me/medicines/{supply}/schedules/"),
        ("post", "/me/schedules/{schedule}/remove/"),
    ],
)
def test_someone_elses_medicine_is_a_404_and_stays_as_it_was(
    signed_in, other_patient, method, path
):
    supply = SupplyFactory(patient=other_patient, quantity_on_hand=Decimal(5))
    schedule = ScheduleFactory(supply=supply)
    data = {"quantity": "10", "slot": "morning", "days": ["1"], "dose_quantity": "1"}

    url = path.format(supply=supply.pk, schedule=schedule.pk)
    response = getattr(signed_in, method)(url, data)

    assert response.status_code == 404
    supply.refresh_from_db()
    schedule.refresh_from_db()
    assert (supply.active, supply.quantity_on_hand, schedule.paused) == (True, Decimal(5), False)
    assert supply.schedules.count() == 1


def test_an_id_too_large_for_the_database_is_a_404(signed_in):
    assert signed_in.get(f"/me/medicines/{2**70}/").status_code == 404


def test_a_patient_asking_for_a_staff_page_gets_403(signed_in):
    assert signed_in.get("/staff/").status_code == 403


@pytest.mark.parametrize("path", ["/me/", "/me/medicines/add/", "/me/caregivers/"])
def test_a_page_with_its_stylesheet_and_script_stays_under_100_kb(signed_in, patient, path):
    supply = SupplyFactory(patient=patient)
    ScheduleFactory(supply=supply)
    assets = [finders.find(name) for name in ("patients/patients.css", "patients/badge.js")]

    size = len(signed_in.get(path).content) + sum(Path(a).stat().st_size for a in assets)

    assert size < 100_000
