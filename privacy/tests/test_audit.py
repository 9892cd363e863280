"""The audit trail: who saw or changed what about a patient, viewable by them and by staff."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from medications.models import CaregiverLink
from medications.tests.factories import SupplyFactory
from privacy.models import AuditEntry


@pytest.fixture
def link(patient, caregiver):
    SupplyFactory(patient=patient, medicine__name="Zyvoxolin")
    return CaregiverLink.objects.create(
        patient=patient, caregiver=caregiver, can_see_medication_details=True
    )


def test_a_caregivers_read_of_a_patients_medicines_appears_in_the_patients_audit_list(
    link, patient, caregiver, api_client_for
) -> None:
    before = timezone.now()
    read = api_client_for(caregiver).get(
        f"/api/patients/{patient.pk}/medications/", REMOTE_ADDR="198.51.100.23"
    )
    assert read.status_code == 200

    response = api_client_for(patient).get("/api/me/audit/")

    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert {k: v for k, v in entry.items() if k != "at"} == {
        "actor": "lerato",
        "actor_role": "caregiver",
        "action": "read",
        "resource": "medications",
        "object_id": "",
        "what": "GET medications-api:patient-medications",
        "ip_address": "198.51.100.23",
    }
    assert entry["at"] >= before.isoformat()[:19]


def test_a_refused_read_is_not_recorded_as_a_read(link, patient, caregiver, api_client_for) -> None:
    link.can_see_medication_details = False
    link.save()
    response = api_client_for(caregiver).get(f"/api/patients/{patient.pk}/medications/")
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_a_patient_reading_their_own_medicines_is_not_recorded_but_a_change_is(
    patient, api_client_for
) -> None:
    client = api_client_for(patient)
    assert client.get("/api/medications/").status_code == 200
    assert not AuditEntry.objects.exists()

    changed = client.patch(
        "/api/notification-preferences/", {"quiet_hours_enabled": True}, format="json"
    )

    assert changed.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.subject, entry.actor, entry.actor_role, entry.action, entry.resource) == (
        patient,
        patient,
        "self",
        "change",
        "preferences",
    )


def test_staff_see_a_patients_trail_and_their_own_look_is_recorded(
    link, patient, caregiver, staff_member, api_client_for
) -> None:
    api_client_for(caregiver).get(f"/api/patients/{patient.pk}/doses/")

    response = api_client_for(staff_member).get(f"/api/staff/users/{patient.pk}/audit/")

    assert response.status_code == 200
    assert [(e["actor"], e["resource"]) for e in response.json()["results"]] == [
        ("sipho", "audit"),
        ("lerato", "doses"),
    ]


def test_a_patient_cannot_read_someone_elses_trail(patient, caregiver, api_client_for) -> None:
    response = api_client_for(patient).get(f"/api/staff/users/{caregiver.pk}/audit/")
    assert response.status_code == 403
    assert not AuditEntry.objects.exists()


def test_a_caregivers_look_at_the_patients_page_appears_in_the_patients_audit_list(
    link, patient, caregiver
) -> None:
    client = Client()
    client.force_login(caregiver)

    assert client.get(f"/me/caring/{patient.pk}/").status_code == 200
    assert client.get(f"/me/caring/{patient.pk + 1000}/").status_code == 404

    [entry] = AuditEntry.objects.filter(subject=patient)
    assert (entry.actor, entry.actor_role, entry.action, entry.resource) == (
        caregiver,
        "caregiver",
        "read",
        "doses",
    )
    assert AuditEntry.objects.count() == 1  # the refused look recorded nothing


def test_a_patient_stopping_a_medicine_or_ending_a_link_on_the_web_is_recorded(
    link, patient
) -> None:
    client = Client()
    client.force_login(patient)
    supply_id = patient.supplies.get().pk

    assert client.post(f"/me/medicines/{supply_id}/stop/").status_code == 302
    assert client.post(f"/me/caregivers/{link.pk}/revoke/").status_code == 302

    assert list(
        AuditEntry.objects.order_by("pk").values_list("actor_role", "action", "resource")
    ) == [("self", "change", "medications"), ("self", "delete", "caregiver_links")]


def test_every_change_to_a_caregiver_link_is_in_the_patients_trail_with_who_and_where(
    patient, caregiver
) -> None:
    """Invite (page and API), cancel, accept (the caregiver acts: the entry is about the
    patient), change the settings, revoke: each one entry in the patient's trail."""
    as_patient, as_caregiver = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="203.0.113.9")
    as_patient.force_login(patient)
    as_caregiver.force_login(caregiver)
    settings = {"can_see_medication_details": "on", "escalation_delay_minutes": "45"}

    first = as_patient.post("/me/caregivers/", {"email": "one@example.org", **settings})
    assert first.status_code == 302
    assert (
        as_patient.post("/me/caregivers/", {"email": "two@example.org", **settings}).status_code
        == 302
    )
    [cancelled, kept] = patient.caregiver_invitations.order_by("pk")
    cancel = as_patient.post(f"/me/caregivers/invitations/{cancelled.pk}/cancel/")
    assert cancel.status_code == 302
    accept_path = re.search(r"http://testserver(/me/caregivers/accept/\S+/)", mail.outbox[-1].body)[
        1
    ]
    assert as_caregiver.post(accept_path).status_code == 302
    link = CaregiverLink.objects.get(patient=patient, caregiver=caregiver)
    changed = as_patient.post(
        f"/me/caregivers/{link.pk}/", {f"link{link.pk}-escalation_delay_minutes": "90"}
    )
    assert changed.status_code == 302
    assert as_patient.post(f"/me/caregivers/{link.pk}/revoke/").status_code == 302

    trail = AuditEntry.objects.filter(subject=patient).order_by("pk")
    assert [
        (e.actor.username, e.actor_role, e.action, e.resource, e.object_id, e.ip_address)
        for e in trail
    ] == [
        ("thandi", "self", "create", "caregiver_invitations", str(cancelled.pk), "198.51.100.7"),
        ("thandi", "self", "create", "caregiver_invitations", str(kept.pk), "198.51.100.7"),
        ("thandi", "self", "delete", "caregiver_invitations", str(cancelled.pk), "198.51.100.7"),
        ("lerato", "caregiver", "create", "caregiver_links", str(link.pk), "203.0.113.9"),
        ("thandi", "self", "change", "caregiver_links", str(link.pk), "198.51.100.7"),
        ("thandi", "self", "delete", "caregiver_links", str(link.pk), "198.51.100.7"),
    ]
    assert not AuditEntry.objects.filter(subject=caregiver).exists()
