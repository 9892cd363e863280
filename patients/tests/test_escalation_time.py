"""The missed-dose notification a caregiver receives gives the dose's time where the
patient lives, named with the zone, in the caregiver's language: "the 08:00 dose" is 08:00
on the patient's clock, whether the caregiver reads it in London or in Johannesburg."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from medguard_backend.testing.factories import UserFactory
from medications.followups import follow_up
from medications.models import CaregiverLink, Dose
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory
from notifications.models import Notification
from notifications.rendering.messages import render_message

pytestmark = pytest.mark.django_db

# Thandi (Johannesburg, UTC+2) was due to take her morning dose at 08:00 her time, which
# is 06:00 in London in November (UTC+0).
DUE = datetime.datetime(2026, 11, 30, 6, 0, tzinfo=datetime.UTC)
NOW = DUE + datetime.timedelta(hours=2)


def escalate_to(caregiver, patient, *, names: bool = False) -> Notification:
    CaregiverLink.objects.create(
        patient=patient,
        caregiver=caregiver,
        escalation_delay_minutes=0,
        can_see_medication_details=names,
    )
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient, medicine__name="Metformin"))
    DoseFactory(schedule=schedule, due_at=DUE, reminded_at=DUE, status=Dose.Status.PENDING)
    with time_machine.travel(NOW, tick=False):
        summary = follow_up()
    assert (summary.missed, summary.escalated) == (1, 1)
    return Notification.objects.get(event="missed_dose")


def test_a_caregiver_in_london_reads_the_patients_0800_labelled_with_her_zone(client, patient):
    london = UserFactory(username="naledi", user_type="caregiver", timezone="Europe/London")
    notification = escalate_to(london, patient, names=True)
    client.force_login(london)

    html = client.get(f"/notifications/{notification.pk}/").content.decode()

    assert (
        "Thandi Nkosi has not recorded their 08:00 (Africa/Johannesburg time) dose of Metformin"
        in html
    )
    assert "06:00" not in html


@pytest.mark.parametrize(
    ("channel", "field"),
    [("sms", "sms"), ("email", "text"), ("email", "html"), ("push", "push_body")],
)
def test_the_sms_email_and_push_give_the_patients_time_in_afrikaans(patient, channel, field):
    london = UserFactory(
        username="naledi",
        user_type="caregiver",
        timezone="Europe/London",
        preferred_language="af",
    )
    notification = escalate_to(london, patient)

    message = render_message(notification, london, channel=channel, show_medication_name=False)

    text = getattr(message, field)
    assert "Thandi Nkosi het nog nie die dosis van 08:00 (Africa/Johannesburg-tyd)" in text
    assert "06:00" not in text


def test_the_stored_english_copy_gives_the_patients_time_too(patient):
    new_york = UserFactory(username="naledi", user_type="caregiver", timezone="America/New_York")

    notification = escalate_to(new_york, patient)

    assert "08:00 (Africa/Johannesburg time)" in notification.content
