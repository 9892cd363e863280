"""Inviting a caregiver by mobile number: the invitation is written, a worker texts the
one-time link through the configured SMS transport (the file transport here, the project's
default), and only the person who verified that number accepts it. Over the web pages and
the API."""

from __future__ import annotations

import datetime
import html
import json
import logging
import re

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from medguard_backend.testing.factories import UserFactory, api_token
from medications.models import CaregiverLink
from medications.tests.factories import SupplyFactory
from patients import invitation_sms
from patients.caregivers import PHONE_INVITATIONS_PER_DAY
from patients.models import CaregiverInvitation, CaregiverLinkChange, InvitationSMS

pytestmark = pytest.mark.django_db

NALEDI_TYPED = "082 123 4567"
NALEDI_E164 = "+27821234567"
INVITE = {
    "phone": NALEDI_TYPED,
    "can_see_medication_details": "on",
    "escalation_delay_minutes": "45",
}


@pytest.fixture
def sms_outbox(settings, tmp_path):
    """The file SMS transport writing into this test's folder; returns the texts sent."""
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.FileSMSTransport",
    }
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = tmp_path / "outbox"
    settings.SITE_BASE_URL = "http://testserver"

    def sent() -> list[dict]:
        files = sorted((tmp_path / "outbox" / "sms").glob("*.json"))
        return [json.loads(path.read_text()) for path in files]

    return sent


@pytest.fixture
def caregiver(db):
    return UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")


def invite_by_phone(client, django_capture_on_commit_callbacks, **changes) -> CaregiverInvitation:
    """Post the form; then do the worker's part (the callback would publish the task)."""
    with django_capture_on_commit_callbacks() as published:
        response = client.post("/me/caregivers/", INVITE | changes)
    assert response.status_code == 302, response.content.decode()
    assert len(published) == 1
    invitation = CaregiverInvitation.objects.latest("pk")
    assert invitation_sms.send(invitation.pk) == InvitationSMS.SENT
    return invitation


def link_in(sms: dict) -> str:
    return re.search(r"http://testserver(/me/caregivers/accept/[\w-]+/)", sms["text"])[1]


def test_an_invitation_by_phone_texts_a_one_time_link_naming_no_medicine(
    signed_in, patient, sms_outbox, django_capture_on_commit_callbacks, caplog
):
    SupplyFactory(patient=patient, medicine__name="Metformin")
    caplog.set_level(logging.DEBUG)

    invitation = invite_by_phone(signed_in, django_capture_on_commit_callbacks)

    (sms,) = sms_outbox()
    assert sms["to"] == NALEDI_E164  # typed the South African way, stored in E.164
    assert sms["text"].startswith("MedGuard SA: Thandi Nkosi asks you to be their caregiver.")
    assert "Metformin" not in sms["text"]
    assert len(sms["text"]) <= 160
    token = link_in(sms).rstrip("/").rsplit("/", 1)[1]
    invitation.refresh_from_db()
    assert str(invitation.phone) == NALEDI_E164
    assert invitation.email == ""
    assert token not in invitation.token_hash
    assert token not in invitation.link_secret
    assert (invitation.sms_status, invitation.sms_attempts) == (InvitationSMS.SENT, 1)
    assert "821234567" not in caplog.text
    assert token not in caplog.text


def test_a_second_send_of_the_same_invitation_texts_nothing(
    signed_in, sms_outbox, django_capture_on_commit_callbacks
):
    invitation = invite_by_phone(signed_in, django_capture_on_commit_callbacks)

    assert invitation_sms.send(invitation.pk) == "not due"
    assert len(sms_outbox()) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12345"}, "phone", "Enter a valid phone number (e.g. 010 123 4567)"),
        # A Johannesburg landline.
        ({"phone": "011 123 4567"}, "phone", "This is not a mobile number"),
        ({"email": "naledi@example.org"}, "phone", "Give an email address or a mobile number"),
        ({"phone": ""}, "email", "Give the caregiver's email address or mobile number."),
    ],
)
def test_a_bad_number_is_refused_next_to_the_field_and_nothing_is_written(
    signed_in, sms_outbox, changes, field, message
):
    response = signed_in.post("/me/caregivers/", INVITE | changes)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert not CaregiverInvitation.objects.exists()
    assert sms_outbox() == []


def test_the_form_speaks_afrikaans_to_an_afrikaans_patient(client, sms_outbox):
    johan = UserFactory(username="johan", first_name="Johan", preferred_language="af")
    client.force_login(johan)

    response = client.post("/me/caregivers/", INVITE | {"phone": "011 123 4567"})

    field = html.unescape(response.content.decode()).split('id="id_phone"')[1]
    assert response.status_code == 400
    assert "Dit is nie 'n selfoonnommer nie: 'n SMS kan dit nie bereik nie." in field


def test_the_invitee_accepts_only_once_the_number_is_verified_on_their_account(
    signed_in, patient, caregiver, sms_outbox, django_capture_on_commit_callbacks
):
    invite_by_phone(signed_in, django_capture_on_commit_callbacks)
    path = link_in(sms_outbox()[0])
    naledi = Client()
    naledi.force_login(caregiver)

    page = naledi.get(path)
    refused = naledi.post(path)
    caregiver.set_phone(NALEDI_E164, verified=False)
    caregiver.save()
    still_refused = naledi.post(path)
    caregiver.set_phone(NALEDI_E164, verified=True)
    caregiver.save()
    accepted = naledi.post(path)

    assert page.status_code == 200
    assert "ending in 567" in page.content.decode()
    assert "/accounts/phone/?next=" in page.content.decode()
    assert (refused.status_code, still_refused.status_code) == (403, 403)
    assert accepted["Location"] == f"/me/caring/{patient.pk}/"
    link = CaregiverLink.objects.get()
    assert (link.caregiver, link.can_see_medication_details, link.escalation_delay_minutes) == (
        caregiver,
        True,
        45,
    )
    assert list(
        CaregiverLinkChange.objects.order_by("pk").values_list("action", "changed_by__username")
    ) == [("invited", "thandi"), ("accepted", "naledi")]


def test_someone_with_another_verified_number_cannot_accept_a_forwarded_link(
    signed_in, sms_outbox, django_capture_on_commit_callbacks
):
    invite_by_phone(signed_in, django_capture_on_commit_callbacks)
    stranger = UserFactory(username="stranger", phone="+27829999999")
    client = Client()
    client.force_login(stranger)

    assert client.post(link_in(sms_outbox()[0])).status_code == 403
    assert not CaregiverLink.objects.exists()


def test_verifying_the_number_from_the_invitation_comes_back_to_it(
    signed_in, caregiver, sms_outbox, django_capture_on_commit_callbacks
):
    invite_by_phone(signed_in, django_capture_on_commit_callbacks)
    path = link_in(sms_outbox()[0])
    naledi = Client()
    naledi.force_login(caregiver)

    asked = naledi.post(f"/accounts/phone/?next={path}", {"phone": NALEDI_TYPED, "next": path})
    code = re.search(r"\b(\d{6})\b", sms_outbox()[-1]["text"])[1]
    verified = naledi.post(asked["Location"], {"code": code, "next": path})

    assert verified["Location"] == path
    assert naledi.post(path).status_code == 302
    assert CaregiverLink.objects.filter(caregiver=caregiver, active=True).exists()


def test_a_temporary_failure_is_retried_with_back_off_and_the_sweep_sends_it_later(
    signed_in, sms_outbox, settings, tmp_path, django_capture_on_commit_callbacks
):
    # The file transport cannot write into a "folder" that is a file: a temporary failure.
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = blocked
    with django_capture_on_commit_callbacks():
        signed_in.post("/me/caregivers/", INVITE)
    invitation = CaregiverInvitation.objects.get()

    assert invitation_sms.send(invitation.pk) == InvitationSMS.PENDING
    invitation.refresh_from_db()
    assert invitation.sms_attempts == 1
    assert invitation.sms_error.startswith("outbox write failed")
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = tmp_path / "outbox"

    later = invitation.sms_not_before + datetime.timedelta(seconds=1)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks() as published,
    ):
        assert invitation_sms.sweep() == {"reclaimed": 0, "published": 1}
        assert invitation_sms.send(invitation.pk) == InvitationSMS.SENT
    assert len(published) == 1
    assert [sms["to"] for sms in sms_outbox()] == [NALEDI_E164]


def test_a_claim_left_by_a_dead_worker_is_handed_back_by_the_sweep(
    signed_in, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        signed_in.post("/me/caregivers/", INVITE)
    invitation = CaregiverInvitation.objects.get()
    long_ago = invitation.created_at - datetime.timedelta(hours=1)
    CaregiverInvitation.objects.filter(pk=invitation.pk).update(
        sms_status=InvitationSMS.SENDING, sms_claimed_at=long_ago
    )

    with django_capture_on_commit_callbacks():
        assert invitation_sms.sweep() == {"reclaimed": 1, "published": 1}


def test_a_patient_sends_at_most_a_few_invitations_by_phone_a_day(
    signed_in, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        for i in range(PHONE_INVITATIONS_PER_DAY):
            signed_in.post("/me/caregivers/", INVITE | {"phone": f"082 123 45{i:02d}"})
        response = signed_in.post("/me/caregivers/", INVITE)

    assert response.status_code == 429
    assert list(response.context["form"].errors) == ["phone"]
    assert CaregiverInvitation.objects.count() == PHONE_INVITATIONS_PER_DAY


# --- The API ----------------------------------------------------------------------------


@pytest.fixture
def api(patient) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(patient)}")
    return client


def test_the_api_invites_by_phone_and_lists_and_cancels_the_invitation(
    api, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as published:
        created = api.post("/api/caregiver-invitations/", {"phone": NALEDI_TYPED}, format="json")
    invitation_id = created.json()["id"]
    invitation_sms.send(invitation_id)
    listed = api.get("/api/caregiver-invitations/")
    cancelled = api.delete(f"/api/caregiver-invitations/{invitation_id}/")

    assert created.status_code == 201
    assert len(published) == 1
    body = created.json()
    assert (body["sent_by"], body["phone"], body["email"], body["sms_status"]) == (
        "sms",
        NALEDI_E164,
        "",
        "pending",
    )
    assert (body["can_see_medication_details"], body["escalation_delay_minutes"]) == (False, 30)
    assert [(i["id"], i["sms_status"]) for i in listed.json()] == [(invitation_id, "sent")]
    assert cancelled.status_code == 204
    assert api.get("/api/caregiver-invitations/").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "not a number"}, "phone"),
        ({"phone": "011 123 4567"}, "phone"),
        ({"phone": NALEDI_TYPED, "email": "naledi@example.org"}, "phone"),
        ({}, "email"),
        ({"phone": NALEDI_TYPED, "escalation_delay_minutes": 100000}, "escalation_delay_minutes"),
        ({"phone": NALEDI_TYPED, "medication": "Metformin"}, "medication"),
        ({"phone": 821234567}, "phone"),
    ],
)
def test_the_api_refuses_bad_input_naming_the_field(api, body, field):
    response = api.post("/api/caregiver-invitations/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not CaregiverInvitation.objects.exists()


def test_the_api_accepts_only_for_the_verified_number(
    api, patient, caregiver, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        created = api.post("/api/caregiver-invitations/", {"phone": NALEDI_TYPED}, format="json")
    invitation_sms.send(created.json()["id"])
    token = link_in(sms_outbox()[0]).rstrip("/").rsplit("/", 1)[1]
    naledi = APIClient()
    naledi.credentials(HTTP_AUTHORIZATION=f"Token {api_token(caregiver)}")

    refused = naledi.post("/api/caregiver-invitations/accept/", {"token": token}, format="json")
    caregiver.set_phone(NALEDI_E164, verified=True)
    caregiver.save()
    accepted = naledi.post("/api/caregiver-invitations/accept/", {"token": token}, format="json")
    again = naledi.post("/api/caregiver-invitations/accept/", {"token": token}, format="json")

    assert refused.status_code == 403
    assert "ending in 567" in refused.json()["detail"]
    assert accepted.status_code == 201
    assert accepted.json() == {
        "patient_id": patient.pk,
        "can_see_medication_details": False,
        "escalation_delay_minutes": 30,
    }
    assert again.status_code == 410
