"""Email through an email service provider (django-anymail's Postmark backend) against a
loopback stand-in: the provider's id on the receipt, its refusals classified, and its
tracking webhook moving the delivery's receipt."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.provider_answers import postmark_error
from medguard_backend.testing.providers import Answer
from notifications.channels import OutgoingMessage, TransportError
from notifications.channels.email import EmailTransport
from notifications.models import Delivery, Notification, NotificationRecipient


@pytest.fixture(autouse=True)
def postmark(settings, provider_server):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        "POSTMARK_SERVER_TOKEN": "pm-token",
        "POSTMARK_API_URL": f"{provider_server.url}/",
        "WEBHOOK_SECRET": "hooks:s3cret",
    }


def email(delivery_id: int = 3) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=delivery_id,
        channel="email",
        to="patient@example.org",
        subject="Your medication",
        text="Time for your dose.",
        idempotency_key=f"delivery-{delivery_id}",
    )


def test_postmark_takes_the_email_and_its_message_id_is_the_receipt(provider_server):
    with EmailTransport() as transport:
        receipt = transport.send(email())

    [request] = provider_server.requests_to("/email")
    assert request.headers["x-postmark-server-token"] == "pm-token"
    sent = request.json()
    assert (sent["To"], sent["Subject"], sent["TextBody"]) == (
        "patient@example.org",
        "Your medication",
        "Time for your dose.",
    )
    assert receipt.provider == "postmark"
    assert receipt.provider_message_id.startswith("pm-")


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        (postmark_error(422, 300, "Invalid 'To' address: 'patient@example.org'."), True),
        (
            postmark_error(
                422,
                406,
                "You tried to send to a recipient that has been marked as inactive.\n"
                " Found inactive addresses: patient@example.org.\n"
                " Inactive recipients are ones that have generated a hard bounce or a spam"
                " complaint. ",
            ),
            True,
        ),
        (postmark_error(401, 10, "Bad or missing Server API token."), False),
        (Answer(503, "Service Unavailable"), False),
    ],
)
def test_postmark_refusals_are_classified(provider_server, answer, permanent):
    provider_server.script("/email", answer)

    with EmailTransport() as transport, pytest.raises(TransportError) as raised:
        transport.send(email())

    assert raised.value.permanent is permanent


@pytest.mark.django_db
def test_the_postmark_delivery_webhook_marks_the_email_delivered():
    notification = Notification.objects.create(title="Reminder")
    recipient = NotificationRecipient.objects.create(notification=notification, user=UserFactory())
    sent = Delivery.objects.create(
        recipient=recipient,
        channel="email",
        status="sent",
        provider="postmark",
        provider_message_id="pm-42",
    )
    auth = "Basic " + base64.b64encode(b"hooks:s3cret").decode()

    response = Client().post(
        "/hooks/anymail/postmark/tracking/",
        json.dumps(
            {
                "RecordType": "Delivery",
                "MessageID": "pm-42",
                "Recipient": "patient@example.org",
                "DeliveredAt": "2026-11-30T10:00:05Z",
                "Details": "Test delivery webhook details",
                "Tag": "",
                "Metadata": {},
                "ServerID": 1,
                "MessageStream": "outbound",
            }
        ),
        content_type="application/json",
        headers={"Authorization": auth},
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.receipt_status == "delivered"


@pytest.mark.django_db
@pytest.mark.parametrize("esp", ["postmark", "sendgrid"])
def test_without_a_webhook_secret_a_basic_auth_webhook_does_not_exist(settings, esp):
    """Postmark's and SendGrid's webhooks have basic auth as their only check: without a
    secret anyone could post "delivered" or "bounced" for any message."""
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}

    response = Client().post(
        f"/hooks/anymail/{esp}/tracking/", data="[]", content_type="application/json"
    )

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("esp", ["postmark", "sendgrid", "amazon_ses"])
def test_a_provider_posts_without_a_csrf_token(esp):
    """The views above anymail's keep its CSRF exemption: a provider has no token (a wrong
    password answers anymail's 400, not CSRF's 403)."""
    response = Client(enforce_csrf_checks=True).post(
        f"/hooks/anymail/{esp}/tracking/",
        data="[]",
        content_type="application/json",
        headers={"Authorization": "Basic " + base64.b64encode(b"hooks:wrong").decode()},
    )

    assert response.status_code == 400
