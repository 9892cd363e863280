"""Inviting a caregiver by email, accepting, the patient's settings, revoking, and what a
caregiver sees. Emails go through Django's configured backend (the test outbox here; the
browser test uses a real SMTP server)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from medications.models import CaregiverLink, Dose
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory
from patients.models import CaregiverInvitation, CaregiverLinkChange

pytestmark = pytest.mark.django_db

INVITE = {
    "email": "naledi@example.org",
    "can_see_medication_details": "on",
    "escalation_delay_minutes": "45",
}


@pytest.fixture
def caregiver(db):
    return UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")


def invite(client) -> str:
    """Send the invitation; return the accept link's path from the email."""
    response = client.post("/me/caregivers/", INVITE)
    assert response.status_code == 302, response.content
    return re.search(r"http://testserver(/me/caregivers/accept/\S+/)", mail.outbox[-1].body)[1]


def test_an_invitation_emails_a_one_time_link_and_keeps_only_its_hash(signed_in, patient):
    path = invite(signed_in)

    (message,) = mail.outbox
    assert message.to == ["naledi@example.org"]
    assert message.subject == "Thandi Nkosi asks you to be their caregiver on MedGuard SA"
    invitation = CaregiverInvitation.objects.get()
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash
    assert (invitation.can_see_medication_details, invitation.escalation_delay_minutes) == (
        True,
        45,
    )


def test_accepting_links_the_caregiver_with_the_patients_settings_and_records_who(
    signed_in, patient, caregiver
):
    path = invite(signed_in)
    naledi = Client()
    naledi.force_login(caregiver)

    page = naledi.get(path)
    accepted = naledi.post(path)
    again = naledi.post(path)

    assert page.status_code == 200
    assert "Thandi Nkosi asks you to look after them" in page.content.decode()
    link = CaregiverLink.objects.get()
    assert (link.patient, link.caregiver, link.active) == (patient, caregiver, True)
    assert (link.can_see_medication_details, link.escalation_delay_minutes) == (True, 45)
    assert accepted["Location"] == f"/me/caring/{patient.pk}/"
    assert again.status_code == 410
    assert list(
        CaregiverLinkChange.objects.order_by("pk").values_list("action", "changed_by__username")
    ) == [("invited", "thandi"), ("accepted", "naledi")]


def test_an_expired_invitation_cannot_be_accepted(signed_in, caregiver):
    path = invite(signed_in)
    naledi = Client()
    with time_machine.travel(datetime.timedelta(days=8)):
        # Signed in a week later (a session lasts 12 hours), the link has expired.
        naledi.force_login(caregiver)
        response = naledi.post(path)

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not CaregiverLink.objects.exists()


def test_a_patient_cannot_accept_their_own_invitation(signed_in):
    path = invite(signed_in)

    response = signed_in.post(path)

    assert response.status_code == 410
    assert not CaregiverLink.objects.exists()


def test_a_bad_email_address_is_refused_by_the_field_and_nothing_is_sent(signed_in):
    response = signed_in.post("/me/caregivers/", INVITE | {"email": "naledi-at-home"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    assert mail.outbox == []
    assert not CaregiverInvitation.objects.exists()


def test_the_patient_changes_a_links_settings_and_revokes_it_and_both_are_recorded(
    signed_in, patient, caregiver
):
    link = CaregiverLink.objects.create(patient=patient, caregiver=caregiver)

    signed_in.post(
        f"/me/caregivers/{link.pk}/",
        {f"link{link.pk}-escalation_delay_minutes": "90"},
    )
    signed_in.post(f"/me/caregivers/{link.pk}/revoke/")

    link.refresh_from_db()
    assert (link.escalation_delay_minutes, link.can_see_medication_details, link.active) == (
        90,
        False,
        False,
    )
    assert list(
        CaregiverLinkChange.objects.order_by("pk").values_list(
            "action", "changed_by__username", "escalation_delay_minutes"
        )
    ) == [("changed", "thandi", 90), ("revoked", "thandi", 90)]


def test_someone_elses_link_is_a_404_and_stays_as_it_was(signed_in, other_patient, caregiver):
    link = CaregiverLink.objects.create(patient=other_patient, caregiver=caregiver)

    assert signed_in.post(f"/me/caregivers/{link.pk}/revoke/").status_code == 404
    link.refresh_from_db()
    assert link.active is True
    assert not CaregiverLinkChange.objects.exists()


def test_the_caregiver_sees_adherence_and_missed_doses_without_medicine_names_unless_allowed(
    client, patient, caregiver
):
    link = CaregiverLink.objects.create(patient=patient, caregiver=caregiver)
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient, medicine__name="Metformin"))
    now = datetime.datetime.now(tz=datetime.UTC)
    for days_ago, status in [(1, "taken"), (2, "taken"), (3, "missed"), (40, "missed")]:
        DoseFactory(
            schedule=schedule, due_at=now - datetime.timedelta(days=days_ago), status=status
        )
    client.force_login(caregiver)

    hidden = client.get(f"/me/caring/{patient.pk}/")
    CaregiverLink.objects.filter(pk=link.pk).update(can_see_medication_details=True)
    shown = client.get(f"/me/caring/{patient.pk}/")

    adherence = hidden.context["adherence"]
    assert (adherence.taken, adherence.missed, adherence.percent) == (2, 1, 67)
    assert len(hidden.context["missed"]) == 1
    assert "Metformin" not in hidden.content.decode()
    assert "Metformin" in shown.content.decode()


def test_a_caregiver_without_an_active_link_gets_a_404(client, patient, caregiver):
    CaregiverLink.objects.create(patient=patient, caregiver=caregiver, active=False)
    client.force_login(caregiver)

    assert client.get(f"/me/caring/{patient.pk}/").status_code == 404


def test_a_missed_dose_is_listed_for_the_caregiver(client, patient, caregiver):
    CaregiverLink.objects.create(patient=patient, caregiver=caregiver)
    dose = DoseFactory(
        schedule=ScheduleFactory(supply=SupplyFactory(patient=patient)),
        due_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=2),
        status=Dose.Status.MISSED,
    )
    client.force_login(caregiver)

    response = client.get(f"/me/caring/{patient.pk}/")

    assert [d.pk for d in response.context["missed"]] == [dose.pk]


@time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_the_caregiver_reads_the_patients_times_in_the_patients_zone_labelled_with_it(
    client, patient
):
    """Thandi (Johannesburg, UTC+2) takes her morning dose at 08:00 her time; Naledi reads
    the page in London (UTC+0 in November) and must see 08:00 SAST, not 06:00."""
    london = UserFactory(username="naledi-london", user_type="caregiver", timezone="Europe/London")
    CaregiverLink.objects.create(patient=patient, caregiver=london)
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))  # morning: 08:00
    DoseFactory(
        schedule=schedule,
        due_at=datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC),
        status=Dose.Status.TAKEN,
    )
    DoseFactory(
        schedule=schedule,
        due_at=datetime.datetime(2026, 11, 29, 6, 0, tzinfo=datetime.UTC),
        status=Dose.Status.MISSED,
    )
    client.force_login(london)

    html = client.get(f"/me/caring/{patient.pk}/").content.decode()

    assert "Times are in Africa/Johannesburg" in html
    today = html.split('id="today-title"')[1].split("</section>")[0]
    missed = html.split('id="missed-title"')[1].split("</section>")[0]
    assert re.search(r'class="time">08:00 <abbr[^>]*title="Africa/Johannesburg">SAST<', today)
    assert "06:00" not in today
    assert "29 November 08:00" in missed
    assert "SAST" in missed
    assert "06:00" not in missed
