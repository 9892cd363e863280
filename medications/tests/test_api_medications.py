"""GET /api/medications/, one medication, and POST .../restock/: the caller's own supplies."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from medications.models import Schedule, Supply
from medications.tests.factories import MedicineFactory, ScheduleFactory, SupplyFactory

# A Tuesday, 08:05 in Johannesburg.
NOW = datetime.datetime(2026, 3, 10, 6, 5, tzinfo=datetime.UTC)
MONDAY_AND_WEDNESDAY = 0b0000101


@pytest.fixture
def api(client_for: Callable[..., APIClient], patient: Any, time_machine: Any) -> APIClient:
    time_machine.move_to(NOW, tick=False)
    return client_for(patient)


@pytest.fixture
def metformin(patient: Any) -> Supply:
    """30 tablets: one every morning, half on Monday and Wednesday evenings at 21:30, and a
    paused evening schedule that does not count."""
    supply = SupplyFactory(
        patient=patient,
        medicine=MedicineFactory(name="Metformin", strength="500 mg"),
        dosage="1 tablet",
        instructions="With food",
        quantity_on_hand=Decimal(30),
        expiry_date=datetime.date(2026, 12, 31),
    )
    ScheduleFactory(
        supply=supply,
        slot=Schedule.Slot.CUSTOM,
        custom_time=datetime.time(21, 30),
        dose_quantity=Decimal("0.5"),
        days_of_week=MONDAY_AND_WEDNESDAY,
    )
    ScheduleFactory(supply=supply, slot=Schedule.Slot.MORNING)
    ScheduleFactory(supply=supply, slot=Schedule.Slot.EVENING, paused=True)
    return supply


def schedule_ids(supply: Supply) -> dict[str, int]:
    return {schedule.slot: schedule.pk for schedule in supply.schedules.all()}


def stock(supply: Supply) -> Decimal:
    supply.refresh_from_db()
    return supply.quantity_on_hand


# --- The list and one medication --------------------------------------------------------------


def test_the_list_shows_the_callers_active_supplies_with_schedules_and_forecast(
    api, patient, other_patient, metformin
):
    SupplyFactory(patient=patient, medicine=MedicineFactory(name="Aspirin"), active=False)
    SupplyFactory(patient=other_patient, medicine=MedicineFactory(name="Someone else's"))
    ids = schedule_ids(metformin)

    response = api.get("/api/medications/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    # 1 + 0.5 x 2/7 tablets a day: 30 tablets last 26.25 days, shown as 26.2.
    assert response.json() == [
        {
            "id": metformin.pk,
            "medicine": {"name": "Metformin", "strength": "500 mg", "form": "tablet"},
            "dosage": "1 tablet",
            "instructions": "With food",
            "quantity_on_hand": "30.00",
            "unit": "tablets",
            "expiry_date": "2026-12-31",
            "warning_days": 5,
            "days_of_supply": "26.2",
            "run_out_date": "2026-04-05",
            "schedules": [
                {
                    "id": ids["morning"],
                    "slot": "morning",
                    "time": "08:00",
                    "dose_quantity": "1.00",
                    "days_of_week": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start_date": "2026-01-01",
                    "end_date": None,
                    "paused": False,
                },
                {
                    "id": ids["evening"],
                    "slot": "evening",
                    "time": "20:00",
                    "dose_quantity": "1.00",
                    "days_of_week": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "start_date": "2026-01-01",
                    "end_date": None,
                    "paused": True,
                },
                {
                    "id": ids["custom"],
                    "slot": "custom",
                    "time": "21:30",
                    "dose_quantity": "0.50",
                    "days_of_week": ["mon", "wed"],
                    "start_date": "2026-01-01",
                    "end_date": None,
                    "paused": False,
                },
            ],
        }
    ]


def test_a_supply_without_an_active_schedule_has_no_forecast(api, patient):
    supply = SupplyFactory(patient=patient)
    ScheduleFactory(supply=supply, end_date=datetime.date(2026, 3, 9))

    response = api.get(f"/api/medications/{supply.pk}/")

    assert response.status_code == 200
    assert response.json()["days_of_supply"] is None
    assert response.json()["run_out_date"] is None


@pytest.mark.parametrize("supplies", [1, 10])
def test_the_list_costs_three_queries_whatever_the_number_of_supplies(
    api, patient, supplies, django_assert_num_queries
):
    for _ in range(supplies):
        supply = SupplyFactory(patient=patient)
        ScheduleFactory(supply=supply, slot=Schedule.Slot.MORNING)
        ScheduleFactory(supply=supply, slot=Schedule.Slot.EVENING)

    # The token and its user, the supplies with their medicines, all their schedules.
    with django_assert_num_queries(3):
        response = api.get("/api/medications/")

    assert response.status_code == 200
    assert [len(item["schedules"]) for item in response.json()] == [2] * supplies


def test_one_medication_is_shown_by_its_id(api, metformin):
    response = api.get(f"/api/medications/{metformin.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == metformin.pk
    assert response.json()["days_of_supply"] == "26.2"


def test_someone_elses_or_an_inactive_medication_is_not_found(api, patient, other_patient):
    theirs = SupplyFactory(patient=other_patient)
    inactive = SupplyFactory(patient=patient, active=False)

    responses = [api.get(f"/api/medications/{supply.pk}/") for supply in (theirs, inactive)]
    beyond_any_key = api.get(f"/api/medications/{2**70}/")

    assert [response.status_code for response in responses] == [404, 404]
    assert responses[0].json() == {"detail": "Not found."}
    assert beyond_any_key.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/medications/"),
        ("get", "/api/medications/{id}/"),
        ("post", "/api/medications/{id}/restock/"),
    ],
)
def test_anonymous_callers_get_401(client_for, metformin, method, path):
    client = client_for()

    response = getattr(client, method)(
        path.format(id=metformin.pk), {"quantity": "30"}, format="json"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert stock(metformin) == Decimal(30)


# --- Restock ---------------------------------------------------------------------------------


def test_a_restock_adds_the_quantity_and_replaces_the_expiry_date(api, metformin):
    response = api.post(
        f"/api/medications/{metformin.pk}/restock/",
        {"quantity": "30", "expiry_date": "2027-06-30"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["quantity_on_hand"] == "60.00"
    assert response.json()["expiry_date"] == "2027-06-30"
    assert response.json()["days_of_supply"] == "52.5"
    assert stock(metformin) == Decimal(60)
    assert metformin.stock_episode == 2


def test_a_restock_without_an_expiry_date_keeps_the_old_one(api, metformin):
    response = api.post(
        f"/api/medications/{metformin.pk}/restock/", {"quantity": 12.5}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["quantity_on_hand"] == "42.50"
    assert response.json()["expiry_date"] == "2026-12-31"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"quantity": ["This field is required."]}),
        ({"quantity": "0"}, {"quantity": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"quantity": "-5"}, {"quantity": ["Ensure this value is greater than or equal to 0.01."]}),
        (
            {"quantity": "10000.01"},
            {"quantity": ["Ensure this value is less than or equal to 10000."]},
        ),
        (
            {"quantity": "1.234"},
            {"quantity": ["Ensure that there are no more than 2 decimal places."]},
        ),
        ({"quantity": "thirty"}, {"quantity": ["A valid number is required."]}),
        ({"quantity": "NaN"}, {"quantity": ["A valid number is required."]}),
        (
            {"quantity": "30", "expiry_date": "30/06/2027"},
            {
                "expiry_date": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ]
            },
        ),
        (
            {"quantity": "30", "expiry_date": "2026-03-09"},
            {"expiry_date": ["This expiry date has already passed."]},
        ),
        (
            {"quantity": "30", "expiry_date": "9999-12-31"},
            {"expiry_date": ["Enter a day between 2000-01-01 and 2099-12-31."]},
        ),
        (
            {"quantity": "30", "expiry_date": "2036-03-11"},
            {
                "expiry_date": [
                    "An expiry date is at most 10 years ahead: enter one up to 2036-03-10."
                ]
            },
        ),
        (
            {"quantity": "30", "expiry_date": 20270630},
            {
                "expiry_date": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ]
            },
        ),
        ({"quantity": True}, {"quantity": ["A valid number is required."]}),
        (
            {"quantity": 0.575},
            {"quantity": ["Ensure that there are no more than 2 decimal places."]},
        ),
        ({"quantity": "30", "note": "from Clicks"}, {"note": ["Unknown field."]}),
        (["30"], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_an_invalid_restock_is_a_400_naming_the_field_and_changes_nothing(
    api, metformin, body, errors
):
    response = api.post(f"/api/medications/{metformin.pk}/restock/", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert stock(metformin) == Decimal(30)
    assert metformin.stock_episode == 1


def test_an_expiry_date_ten_years_ahead_is_the_latest_accepted(api, metformin):
    response = api.post(
        f"/api/medications/{metformin.pk}/restock/",
        {"quantity": 0.57, "expiry_date": "2036-03-10"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["expiry_date"] == "2036-03-10"
    assert stock(metformin) == Decimal("30.57")


def test_a_restock_beyond_what_the_supply_can_record_is_a_400(api, metformin):
    Supply.objects.filter(pk=metformin.pk).update(quantity_on_hand=Decimal("99995000"))

    response = api.post(
        f"/api/medications/{metformin.pk}/restock/", {"quantity": "10000"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "quantity": ["The quantity on hand would be larger than can be recorded."]
    }
    assert stock(metformin) == Decimal("99995000")


def test_someone_elses_medication_cannot_be_restocked(api, other_patient):
    theirs = SupplyFactory(patient=other_patient, quantity_on_hand=Decimal(30))

    response = api.post(f"/api/medications/{theirs.pk}/restock/", {"quantity": "5"}, format="json")

    assert response.status_code == 404
    assert stock(theirs) == Decimal(30)


def test_restock_errors_follow_accept_language(api, metformin):
    response = api.post(
        f"/api/medications/{metformin.pk}/restock/",
        {"quantity": "0", "expiry_date": "2026-01-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="af",
    )

    assert response.status_code == 400
    assert response["Content-Language"] == "af"
    assert response.json() == {
        "quantity": ["Maak seker dié waarde is groter as of gelyk aan 0.01."],
        "expiry_date": ["Hierdie vervaldatum is reeds verby."],
    }


def test_an_afrikaans_patient_gets_errors_in_afrikaans_without_asking(
    client_for, other_patient, time_machine
):
    time_machine.move_to(NOW, tick=False)
    supply = SupplyFactory(patient=other_patient)

    response = client_for(other_patient).post(
        f"/api/medications/{supply.pk}/restock/", {"quantity": "ses"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"quantity": ["'n Geldige getal word vereis."]}
