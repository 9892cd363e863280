"""A caregiver's read-only view: GET /api/patients/, and a linked patient's doses and
medications, as far as each link allows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from medguard_backend.testing.factories import UserFactory
from medications.models import CaregiverLink, Dose, Supply
from medications.tests.factories import (
    CaregiverLinkFactory,
    DoseFactory,
    MedicineFactory,
    ScheduleFactory,
    SupplyFactory,
)

# 08:05 in Johannesburg (UTC+2).
NOW = datetime.datetime(2026, 3, 10, 6, 5, tzinfo=datetime.UTC)
NOT_ALLOWED = "This patient has not allowed you to see their medication details."


@pytest.fixture
def patient(db: None) -> Any:
    return UserFactory(username="thandi", first_name="Thandi", last_name="Mokoena")


@pytest.fixture
def caregiver(db: None) -> Any:
    return UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")


@pytest.fixture
def api(client_for: Callable[..., APIClient], caregiver: Any, time_machine: Any) -> APIClient:
    """The caregiver's client."""
    time_machine.move_to(NOW, tick=False)
    return client_for(caregiver)


@pytest.fixture
def link(patient: Any, caregiver: Any) -> CaregiverLink:
    """Thandi lets Naledi know of missed doses, not which medicine."""
    return CaregiverLinkFactory(patient=patient, caregiver=caregiver, escalation_delay_minutes=45)


@pytest.fixture
def supply(patient: Any) -> Supply:
    return SupplyFactory(
        patient=patient,
        medicine=MedicineFactory(name="Metformin", strength="500 mg"),
        quantity_on_hand=Decimal(30),
    )


def dose_of(supply: Supply, hours_ago: int = 0, **fields: Any) -> Dose:
    return DoseFactory(
        schedule=ScheduleFactory(supply=supply),
        due_at=NOW - datetime.timedelta(hours=hours_ago),
        **fields,
    )


def allow_details(link: CaregiverLink) -> None:
    link.can_see_medication_details = True
    link.save()


# --- The caregiver's patients -----------------------------------------------------------------


def test_a_caregiver_sees_the_patients_of_their_active_links_by_name(
    api, caregiver, link, other_patient
):
    CaregiverLinkFactory(
        patient=other_patient, caregiver=caregiver, can_see_medication_details=True
    )
    CaregiverLinkFactory(
        patient=UserFactory(first_name="Ayanda"), caregiver=caregiver, active=False
    )
    CaregiverLinkFactory(
        patient=UserFactory(first_name="Bongani", is_active=False), caregiver=caregiver
    )
    CaregiverLinkFactory(patient=UserFactory(first_name="Carol"))

    response = api.get("/api/patients/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response.json() == [
        {
            "id": other_patient.pk,
            "name": "Johan",
            "escalation_delay_minutes": 30,
            "can_see_medication_details": True,
        },
        {
            "id": link.patient_id,
            "name": "Thandi Mokoena",
            "escalation_delay_minutes": 45,
            "can_see_medication_details": False,
        },
    ]


def test_someone_who_cares_for_nobody_has_no_patients(client_for, patient, link):
    response = client_for(patient).get("/api/patients/")

    assert response.status_code == 200
    assert response.json() == []


def test_the_patient_list_costs_two_queries_whatever_its_length(
    api, caregiver, django_assert_num_queries
):
    for _ in range(10):
        CaregiverLinkFactory(caregiver=caregiver)

    # The token and its user, then the links with their patients.
    with django_assert_num_queries(2):
        response = api.get("/api/patients/")

    assert len(response.json()) == 10


# --- A patient's doses ------------------------------------------------------------------------


def test_a_caregiver_sees_the_patients_doses_without_the_medicine_unless_allowed(api, link, supply):
    dose = dose_of(supply, status=Dose.Status.MISSED)

    response = api.get(f"/api/patients/{link.patient_id}/doses/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": dose.pk,
            "schedule_id": dose.schedule_id,
            "medication": None,
            "due_at": "2026-03-10T08:05:00+02:00",
            "status": "missed",
            "snoozed_until": None,
            "recorded_at": None,
        }
    ]
    assert "Metformin" not in response.content.decode()


def test_a_caregiver_allowed_medication_details_sees_the_medicine_of_each_dose(api, link, supply):
    allow_details(link)
    dose_of(supply)

    response = api.get(f"/api/patients/{link.patient_id}/doses/")

    assert [item["medication"] for item in response.json()["results"]] == [
        {"name": "Metformin", "strength": "500 mg"}
    ]


def test_a_patients_doses_filter_and_paginate_like_the_callers_own(api, link, supply):
    taken = [dose_of(supply, hours, status=Dose.Status.TAKEN) for hours in (1, 2, 3)]
    dose_of(supply, 4, status=Dose.Status.MISSED)

    first = api.get(f"/api/patients/{link.patient_id}/doses/?status=taken&page_size=2")
    second = api.get(first.json()["next"])

    assert [item["id"] for item in first.json()["results"]] == [taken[0].pk, taken[1].pk]
    assert [item["id"] for item in second.json()["results"]] == [taken[2].pk]


@pytest.mark.parametrize("details", [False, True])
def test_a_patients_doses_cost_three_queries_whatever_the_page(
    api, link, details, django_assert_num_queries
):
    if details:
        allow_details(link)
    for hours in range(30):
        dose_of(SupplyFactory(patient=link.patient), hours)

    # The token and its user, the link with its patient, the page, the audit entry.
    with django_assert_num_queries(4):
        response = api.get(f"/api/patients/{link.patient_id}/doses/?page_size=25")

    assert len(response.json()["results"]) == 25


# --- A patient's medications ------------------------------------------------------------------


def test_a_caregiver_allowed_medication_details_sees_the_patients_medications(
    api, link, supply, django_assert_num_queries
):
    allow_details(link)
    ScheduleFactory(supply=supply)

    # The token and its user, the link, the supplies, their schedules, the audit entry.
    with django_assert_num_queries(5):
        response = api.get(f"/api/patients/{link.patient_id}/medications/")

    assert response.status_code == 200
    (item,) = response.json()
    assert item["id"] == supply.pk
    assert item["medicine"] == {"name": "Metformin", "strength": "500 mg", "form": "tablet"}
    assert item["days_of_supply"] == "30.0"
    assert item["run_out_date"] == "2026-04-09"


def test_a_linked_caregiver_without_medication_details_is_refused_with_403(api, link, supply):
    response = api.get(f"/api/patients/{link.patient_id}/medications/")

    assert response.status_code == 403
    assert response.json() == {"detail": NOT_ALLOWED}


def test_the_403_is_in_afrikaans_for_an_afrikaans_caregiver(client_for, patient):
    afrikaans_caregiver = UserFactory(username="pieter", preferred_language="af")
    CaregiverLinkFactory(patient=patient, caregiver=afrikaans_caregiver)

    response = client_for(afrikaans_caregiver).get(f"/api/patients/{patient.pk}/medications/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Hierdie pasiënt het jou nie toegelaat om hul medikasiebesonderhede te sien nie."
    }


# --- Not linked, not allowed to write, not signed in ------------------------------------------


@pytest.mark.parametrize("what", ["doses", "medications"])
def test_a_patient_without_an_active_link_is_not_found(
    api, caregiver, patient, other_patient, what
):
    CaregiverLinkFactory(
        patient=patient, caregiver=caregiver, active=False, can_see_medication_details=True
    )

    inactive_link = api.get(f"/api/patients/{patient.pk}/{what}/")
    no_link = api.get(f"/api/patients/{other_patient.pk}/{what}/")
    beyond_any_key = api.get(f"/api/patients/{2**70}/{what}/")

    assert inactive_link.status_code == 404
    assert inactive_link.json() == {"detail": "Not found."}
    assert no_link.status_code == 404
    assert beyond_any_key.status_code == 404


def test_a_caregiver_cannot_record_or_restock_for_a_patient(api, link, supply):
    allow_details(link)
    dose = dose_of(supply)

    take = api.post(f"/api/doses/{dose.pk}/take/")
    restock = api.post(f"/api/medications/{supply.pk}/restock/", {"quantity": "5"}, format="json")
    post_on_patient = api.post(f"/api/patients/{link.patient_id}/doses/")

    assert take.status_code == 404
    assert restock.status_code == 404
    assert post_on_patient.status_code == 405
    dose.refresh_from_db()
    assert dose.status == "pending"
    supply.refresh_from_db()
    assert supply.quantity_on_hand == Decimal(30)


@pytest.mark.parametrize("path", ["/api/patients/", "doses", "medications"])
def test_anonymous_callers_get_401(client_for, link, path):
    url = path if path.startswith("/") else f"/api/patients/{link.patient_id}/{path}/"

    response = client_for().get(url)

    assert response.status_code == 401
