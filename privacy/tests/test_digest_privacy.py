"""The email digest obeys consent and the medicine-name rule, like every other email."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from medguard_backend.testing.factories import PreferencesFactory
from notifications.delivery.digests import send_email_digests
from notifications.models import Delivery, UserNotificationPreferences
from notifications.services import NotificationService


def waiting_digest(patient, **preferences) -> Delivery:
    PreferencesFactory(user=patient, email_time_preference="morning", **preferences)
    NotificationService.send_medication_reminder(
        user=patient,
        medication_name="Zyvoxolin",
        dosage="500mg",
        priority="medium",  # high would beat the digest
        channels=["email"],
    )
    delivery = Delivery.objects.get(channel="email")
    assert delivery.digest is True
    Delivery.objects.filter(pk=delivery.pk).update(
        not_before=timezone.now() - datetime.timedelta(minutes=1)
    )
    return delivery


@pytest.mark.parametrize(("opted_in", "named"), [(False, False), (True, True)])
def test_a_digest_names_the_medicine_only_if_the_user_chose_so(
    patient, smtp_server, opted_in, named
) -> None:
    waiting_digest(patient, show_medication_names_in_sms_push=opted_in)

    send_email_digests([patient.pk])

    [message] = smtp_server.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    assert ("Zyvoxolin" in text) is named
    assert "Zyvoxolin" not in message["Subject"]


def test_a_digest_waiting_when_email_consent_is_withdrawn_is_not_sent(patient, smtp_server) -> None:
    delivery = waiting_digest(patient)
    UserNotificationPreferences.objects.filter(user=patient).update(email_reminders_consent=False)

    summary = send_email_digests([patient.pk])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("skipped", "no_consent")
    assert summary.skipped == 1
    assert smtp_server.messages == []
