"""GET /api/doses/ and take, skip and snooze on the caller's own doses."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from medications.models import Dose, Supply
from medications.tests.factories import DoseFactory, MedicineFactory, ScheduleFactory, SupplyFactory

# 08:05 in Johannesburg (UTC+2).
NOW = datetime.datetime(2026, 3, 10, 6, 5, tzinfo=datetime.UTC)
DOSE_KEYS = {"id", "schedule_id", "medication", "due_at", "status", "snoozed_until", "recorded_at"}


@pytest.fixture
def api(client_for: Callable[..., APIClient], patient: Any, time_machine: Any) -> APIClient:
    time_machine.move_to(NOW, tick=False)
    return client_for(patient)


@pytest.fixture
def supply(patient: Any) -> Supply:
    return SupplyFactory(
        patient=patient,
        medicine=MedicineFactory(name="Metformin", strength="500 mg"),
        quantity_on_hand=Decimal(30),
    )


def dose_of(supply: Supply, due_at: datetime.datetime = NOW, **fields: Any) -> Dose:
    schedule = ScheduleFactory(supply=supply, dose_quantity=Decimal(2))
    return DoseFactory(schedule=schedule, due_at=due_at, **fields)


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=datetime.UTC)


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


def stock(supply: Supply) -> Decimal:
    supply.refresh_from_db()
    return supply.quantity_on_hand


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_only_the_callers_doses_newest_first(api, supply, other_patient):
    older = dose_of(supply, at(9, 6), status=Dose.Status.TAKEN, recorded_at=at(9, 6, 10))
    newer = dose_of(supply, at(10, 6), status=Dose.Status.SNOOZED, snoozed_until=at(10, 6, 15))
    dose_of(SupplyFactory(patient=other_patient), at(10, 7))

    response = api.get("/api/doses/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["next"] is None
    assert body["previous"] is None
    assert body["results"] == [
        {
            "id": newer.pk,
            "schedule_id": newer.schedule_id,
            "medication": {"name": "Metformin", "strength": "500 mg"},
            "due_at": "2026-03-10T08:00:00+02:00",
            "status": "snoozed",
            "snoozed_until": "2026-03-10T08:15:00+02:00",
            "recorded_at": None,
        },
        {
            "id": older.pk,
            "schedule_id": older.schedule_id,
            "medication": {"name": "Metformin", "strength": "500 mg"},
            "due_at": "2026-03-09T08:00:00+02:00",
            "status": "taken",
            "snoozed_until": None,
            "recorded_at": "2026-03-09T08:10:00+02:00",
        },
    ]


def test_the_list_filters_by_status(api, supply):
    dose_of(supply, at(9, 6), status=Dose.Status.TAKEN)
    missed = dose_of(supply, at(8, 6), status=Dose.Status.MISSED)

    response = api.get("/api/doses/?status=missed")

    assert ids(response) == [missed.pk]


def test_from_and_to_are_whole_days_in_the_patients_time_zone(api, supply):
    # 23:30 UTC on the 8th is 01:30 on the 9th in Johannesburg; 22:30 UTC on the 9th is
    # 00:30 on the 10th.
    before = dose_of(supply, at(8, 21, 30))
    first = dose_of(supply, at(8, 23, 30))
    last = dose_of(supply, at(9, 21, 59))
    after = dose_of(supply, at(9, 22, 30))

    response = api.get("/api/doses/?from=2026-03-09&to=2026-03-09")
    open_ended = api.get("/api/doses/?from=0001-01-01&to=9999-12-31")

    assert ids(response) == [last.pk, first.pk]
    assert ids(open_ended) == [after.pk, last.pk, first.pk, before.pk]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("status=gone", {"status": ['"gone" is not a valid choice.']}),
        (
            "from=yesterday",
            {"from": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
        ("from=2026-03-10&to=2026-03-09", {"to": ["This day is before the “from” day."]}),
        ("page_size=0", {"page_size": ["Enter a whole number from 1 to 100."]}),
        ("cursor=xyz", {"cursor": ["Invalid cursor"]}),
    ],
)
def test_an_invalid_query_parameter_is_a_400_naming_it(api, query, errors):
    response = api.get(f"/api/doses/?{query}")

    assert response.status_code == 400
    assert response.json() == errors


def test_a_forged_cursor_position_is_a_400_not_a_server_error(api):
    cursor = base64.b64encode(b"p=not-a-date").decode()

    response = api.get("/api/doses/", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor"]}


def test_pages_follow_the_cursor_without_repeating_or_skipping(api, supply):
    doses = [dose_of(supply, at(1 + day, 6)) for day in range(5)]

    first = api.get("/api/doses/?page_size=2")
    second = api.get(first.json()["next"])
    third = api.get(second.json()["next"])

    assert ids(first) == [doses[4].pk, doses[3].pk]
    assert ids(second) == [doses[2].pk, doses[1].pk]
    assert ids(third) == [doses[0].pk]
    assert third.json()["next"] is None


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_list_costs_two_queries_whatever_the_page_size(
    api, patient, page_size, django_assert_num_queries
):
    for number in range(50):
        dose_of(SupplyFactory(patient=patient), NOW - datetime.timedelta(hours=number))

    # The token and its user, then the page with its schedules, supplies and medicines.
    with django_assert_num_queries(2):
        response = api.get(f"/api/doses/?page_size={page_size}")

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert set(response.json()["results"][-1]) == DOSE_KEYS


# --- Take, skip, snooze ---------------------------------------------------------------------


def test_taking_a_dose_twice_lowers_the_stock_once_and_answers_the_same_dose(api, supply):
    dose = dose_of(supply)

    first = api.post(f"/api/doses/{dose.pk}/take/")
    second = api.post(f"/api/doses/{dose.pk}/take/")

    assert first.status_code == 200
    assert second.status_code == 200
    assert first.json()["status"] == "taken"
    assert first.json()["recorded_at"] == "2026-03-10T08:05:00+02:00"
    assert second.json() == first.json()
    assert stock(supply) == Decimal(28)


def test_skipping_a_dose_records_it_and_leaves_the_stock_alone(api, supply):
    dose = dose_of(supply)

    response = api.post(f"/api/doses/{dose.pk}/skip/")

    assert response.status_code == 200
    assert response.json()["status"] == "skipped"
    assert response.json()["recorded_at"] == "2026-03-10T08:05:00+02:00"
    assert stock(supply) == Decimal(30)


def test_a_refused_change_is_a_409_with_the_services_reason(api, supply):
    taken = dose_of(supply, status=Dose.Status.TAKEN)

    response = api.post(f"/api/doses/{taken.pk}/skip/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This dose was already taken, so it can no longer be skipped."
    }
    taken.refresh_from_db()
    assert taken.status == "taken"


def test_the_refusal_is_in_afrikaans_when_asked_for(api, supply):
    skipped = dose_of(supply, status=Dose.Status.SKIPPED)

    response = api.post(f"/api/doses/{skipped.pk}/take/", HTTP_ACCEPT_LANGUAGE="af")

    assert response.status_code == 409
    assert response["Content-Language"] == "af"
    assert response.json() == {
        "detail": "Hierdie dosis is oorgeslaan en kan nie meer as geneem gemerk word nie."
    }
    assert stock(supply) == Decimal(30)


def test_a_body_on_take_is_refused_naming_its_fields(api, supply):
    dose = dose_of(supply)

    response = api.post(f"/api/doses/{dose.pk}/take/", {"taken_at": "07:00"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"taken_at": ["Unknown field."]}
    dose.refresh_from_db()
    assert dose.status == "pending"


def test_snoozing_without_minutes_reminds_again_in_ten(api, supply):
    dose = dose_of(supply)

    response = api.post(f"/api/doses/{dose.pk}/snooze/")

    assert response.status_code == 200
    assert response.json()["status"] == "snoozed"
    assert response.json()["snoozed_until"] == "2026-03-10T08:15:00+02:00"


@pytest.mark.parametrize(("minutes", "until"), [(1, "08:06"), (120, "10:05")])
def test_snoozing_accepts_one_to_the_maximum_minutes(api, supply, minutes, until):
    dose = dose_of(supply)

    response = api.post(f"/api/doses/{dose.pk}/snooze/", {"minutes": minutes}, format="json")

    assert response.status_code == 200
    assert response.json()["snoozed_until"] == f"2026-03-10T{until}:00+02:00"


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (121, "Ensure this value is less than or equal to 120."),
        (1.5, "A valid integer is required."),
        ("ten", "A valid integer is required."),
        (True, "A valid integer is required."),
        (None, "This field may not be null."),
    ],
)
def test_snooze_minutes_out_of_bounds_are_a_400_naming_minutes(api, supply, minutes, message):
    dose = dose_of(supply)

    response = api.post(f"/api/doses/{dose.pk}/snooze/", {"minutes": minutes}, format="json")

    assert response.status_code == 400
    assert response.json() == {"minutes": [message]}
    dose.refresh_from_db()
    assert dose.status == "pending"


def test_the_snooze_bound_is_the_setting(api, supply, settings):
    settings.MEDICATION_SNOOZE_MAX_MINUTES = 30
    dose = dose_of(supply)

    refused = api.post(f"/api/doses/{dose.pk}/snooze/", {"minutes": 31}, format="json")
    accepted = api.post(f"/api/doses/{dose.pk}/snooze/", {"minutes": 30}, format="json")

    assert refused.json() == {"minutes": ["Ensure this value is less than or equal to 30."]}
    assert accepted.status_code == 200


def test_snooze_errors_are_in_afrikaans_for_an_afrikaans_patient(
    client_for, other_patient, time_machine
):
    time_machine.move_to(NOW, tick=False)
    dose = dose_of(SupplyFactory(patient=other_patient))
    client = client_for(other_patient)

    bound = client.post(f"/api/doses/{dose.pk}/snooze/", {"minutes": 500}, format="json")
    closed = client.post(
        f"/api/doses/{dose_of(dose.schedule.supply, at(9, 6), status='taken').pk}/snooze/"
    )

    assert bound.json() == {"minutes": ["Maak seker dié waarde is kleiner as of gelyk aan 120."]}
    assert closed.json() == {"detail": "Net 'n dosis wat nog geneem moet word, kan uitgestel word."}


@pytest.mark.parametrize("action", ["take", "skip", "snooze"])
def test_someone_elses_dose_is_not_found_and_unchanged(api, other_patient, action):
    theirs = dose_of(SupplyFactory(patient=other_patient, quantity_on_hand=Decimal(30)))

    response = api.post(f"/api/doses/{theirs.pk}/{action}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    theirs.refresh_from_db()
    assert theirs.status == "pending"
    assert stock(theirs.schedule.supply) == Decimal(30)


@pytest.mark.parametrize("action", ["take", "skip", "snooze"])
def test_a_dose_id_beyond_any_key_is_not_found(api, action):
    response = api.post(f"/api/doses/{2**70}/{action}/")

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/api/doses/", "take", "skip", "snooze"])
def test_anonymous_callers_get_401(client_for, supply, path):
    dose = dose_of(supply)
    client = client_for()

    response = (
        client.get(path) if path.startswith("/") else client.post(f"/api/doses/{dose.pk}/{path}/")
    )

    assert response.status_code == 401
    dose.refresh_from_db()
    assert dose.status == "pending"
