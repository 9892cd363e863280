"""Email through Amazon SES (django-anymail's SES v2 backend, which needs boto3) against a
loopback stand-in for SES v2 SendEmail, through the real pipeline: one message arrives,
signed with AWS Signature V4, and SES's message id is the delivery's provider id."""

from __future__ import annotations

import base64
import datetime
import email
from email.policy import default as default_policy

import pytest
import time_machine

from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from medguard_backend.testing.provider_answers import send_email_through_ses_at, ses_error
from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery
from notifications.services import NotificationService

SEND_EMAIL = "/v2/email/outbound-emails"
# 10:00 in Johannesburg: outside anyone's quiet hours.
MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def amazon_ses(settings, provider_server):
    send_email_through_ses_at(settings, provider_server.url)
    with time_machine.travel(MORNING, tick=True):
        yield


def email_delivery() -> int:
    user = UserFactory(email="thandi@example.org")
    PreferencesFactory(user=user)
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users([user], notification, channels=["email"])
    return Delivery.objects.get(recipient__notification=notification, channel="email").pk


@pytest.mark.django_db
def test_an_email_sent_through_amazon_ses_arrives_once_with_its_message_id_recorded(
    provider_server,
):
    delivery_id = email_delivery()

    summary = send_deliveries([delivery_id])

    assert summary.sent == 1
    [request] = provider_server.requests_to(SEND_EMAIL)
    assert request.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDSTANDIN0000000000/20261130/af-south-1/ses/aws4_request"
    )
    sent = request.json()
    assert sent["Destination"]["ToAddresses"] == ["thandi@example.org"]
    message = email.message_from_bytes(
        base64.b64decode(sent["Content"]["Raw"]["Data"]), policy=default_policy
    )
    assert message["Subject"] == "Reminder"
    assert message["From"] == "MedGuard <noreply@medguard.example>"
    assert message["To"] == "thandi@example.org"
    assert "Time for your dose" in message.get_body(("plain",)).get_content()
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "sent"
    assert delivery.provider == "amazon_ses"
    assert delivery.provider_message_id.endswith("-stand-in-000000")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (
            ses_error(400, "MessageRejected", "Email address is not verified."),
            "failed",
            "email provider answered HTTP 400 (MessageRejected)",
        ),
        (
            ses_error(429, "TooManyRequestsException", "Maximum sending rate exceeded."),
            "pending",
            "email provider answered HTTP 429 (TooManyRequestsException)",
        ),
    ],
)
def test_ses_refusals_fail_or_retry_as_their_status_says(provider_server, answer, status, reason):
    delivery_id = email_delivery()
    provider_server.script(SEND_EMAIL, answer)

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (status, reason)
    assert len(provider_server.requests_to(SEND_EMAIL)) == 1


@pytest.mark.django_db
def test_a_paused_ses_account_is_retried_not_failed(provider_server):
    delivery_id = email_delivery()
    provider_server.script(
        SEND_EMAIL, ses_error(400, "SendingPausedException", "Sending is paused for this account.")
    )

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (
        "pending",
        "email provider answered HTTP 400 (SendingPausedException)",
    )
