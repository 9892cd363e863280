"""Replies to reminder SMS: TAKEN / SKIP (and GENEEM / OORSLAAN) record the dose for the
number's verified owner only, STOP opts the number out, anything else gets one help SMS
(sent through the real gateway path to a loopback stand-in)."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from medications.models import Dose
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory
from notifications.channels.sms.failover import reset_circuits
from notifications.models import (
    Delivery,
    Notification,
    NotificationRecipient,
    UserNotificationPreferences,
)
from notifications.receipts.replies import keyword

pytestmark = pytest.mark.django_db

SECRET = "hook-secret-0123456789"
NUMBER = "+27821234567"


@pytest.fixture(autouse=True)
def gateway(settings, provider_server):
    cache.clear()
    reset_circuits()
    settings.PROVIDER_WEBHOOK_SECRET = SECRET
    settings.SMS_BACKENDS = ["clickatell"]
    settings.CLICKATELL_API_KEY = "ct-key"
    settings.CLICKATELL_API_URL = provider_server.url
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.GatewaySMSTransport",
    }


def patient(*, verified: bool, language: str = "en"):
    user = UserFactory(phone=NUMBER, preferred_language=language, phone_verified=verified)
    PreferencesFactory(user=user, sms_notifications_enabled=True)
    return user


def reminded_dose(user) -> Dose:
    dose = DoseFactory(schedule=ScheduleFactory(supply=SupplyFactory(patient=user)))
    notification = Notification.objects.create(
        title="Reminder", notification_type="medication", context={"dose_id": dose.pk}
    )
    recipient = NotificationRecipient.objects.create(notification=notification, user=user)
    Delivery.objects.create(
        recipient=recipient, channel="sms", status="sent", sent_at=timezone.now()
    )
    return dose


def reply(text: str, message_id: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return Client().post(
            f"/hooks/clickatell/{SECRET}/inbound/",
            json.dumps(
                {
                    "messageId": message_id,
                    "fromNumber": NUMBER.removeprefix("+"),
                    "toNumber": "27600000000",
                    "timestamp": 1796000000000,
                    "text": text,
                    "charset": "UTF-8",
                }
            ),
            content_type="application/json",
        )


@pytest.mark.parametrize(
    ("text", "word"),
    [("TAKEN", "taken"), (" geneem! ", "geneem"), ("Oorslaan.", "oorslaan"), ("Stópp", "stopp")],
)
def test_the_keyword_ignores_case_accents_and_punctuation(text, word):
    assert keyword(text) == word


@pytest.mark.parametrize(
    ("text", "status"), [("GENEEM", "taken"), ("1", "taken"), ("skip", "skipped")]
)
def test_the_verified_owner_answering_records_the_reminded_dose(
    text, status, provider_server, django_capture_on_commit_callbacks
):
    dose = reminded_dose(patient(verified=True))

    response = reply(text, f"in-{text}", django_capture_on_commit_callbacks)

    assert response.json() == {"action": status}
    dose.refresh_from_db()
    assert dose.status == status
    assert provider_server.requests == []


def test_an_unverified_number_records_nothing_and_gets_one_help_sms(
    provider_server, django_capture_on_commit_callbacks
):
    dose = reminded_dose(patient(verified=False))

    first = reply("TAKEN", "in-1", django_capture_on_commit_callbacks)
    second = reply("TAKEN", "in-2", django_capture_on_commit_callbacks)

    assert (first.json(), second.json()) == ({"action": "help"}, {"action": "help"})
    dose.refresh_from_db()
    assert dose.status == "pending"
    [request] = provider_server.requests_to("/v1/message")
    [message] = request.json()["messages"]
    assert message["to"] == "27821234567"
    assert message["content"].startswith("MedGuard: reply TAKEN or 1")


def test_a_repeated_webhook_is_handled_once(provider_server, django_capture_on_commit_callbacks):
    patient(verified=False)

    first = reply("hello", "in-same", django_capture_on_commit_callbacks)
    again = reply("hello", "in-same", django_capture_on_commit_callbacks)

    assert (first.json(), again.json()) == ({"action": "help"}, {"action": "ignored"})
    assert len(provider_server.requests_to("/v1/message")) == 1


@pytest.mark.parametrize("word", ["STOP", "stopp"])
def test_stop_turns_sms_off_for_the_number_without_a_reply(
    word, provider_server, django_capture_on_commit_callbacks
):
    user = patient(verified=False)

    response = reply(word, f"in-{word}", django_capture_on_commit_callbacks)

    assert response.json() == {"action": "opted_out"}
    assert not UserNotificationPreferences.objects.get(user=user).sms_notifications_enabled
    assert provider_server.requests == []


def test_an_inbound_message_without_a_sender_is_a_400():
    response = Client().post(
        f"/hooks/clickatell/{SECRET}/inbound/",
        json.dumps({"messageId": "x", "text": "TAKEN"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Not a clickatell inbound message: messageId, fromNumber, text are required."
    }


def test_the_help_sms_is_in_the_owners_language(
    provider_server, django_capture_on_commit_callbacks
):
    patient(verified=False, language="af")

    reply("wat?", "in-af", django_capture_on_commit_callbacks)

    [request] = provider_server.requests_to("/v1/message")
    [message] = request.json()["messages"]
    assert message["content"] == (
        "MedGuard: antwoord GENEEM of 1 as jy jou dosis geneem het, OORSLAAN om dit oor te "
        "slaan, STOP vir geen SMS'e meer nie."
    )
