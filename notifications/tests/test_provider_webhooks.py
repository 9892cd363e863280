"""Delivery-report webhooks: authenticated per provider, idempotent, each status mapped to
delivered / undelivered / expired on the delivery, an unknown status stored and answered
200, and a lost send answer settled by the receipt that carries our key."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from notifications.models import (
    Delivery,
    DeliveryReceipt,
    DeliveryStatus,
    Notification,
    NotificationRecipient,
)
from notifications.receipts.signatures import twilio_signature

pytestmark = pytest.mark.django_db

SECRET = "hook-secret-0123456789"


@pytest.fixture(autouse=True)
def hooks(settings):
    settings.PROVIDER_WEBHOOK_SECRET = SECRET
    settings.TWILIO_AUTH_TOKEN = "tw-token"
    settings.SITE_BASE_URL = "https://medguard.example"


def delivery(provider: str, message_id: str, status: str = DeliveryStatus.SENT) -> Delivery:
    notification = Notification.objects.create(title="Reminder", notification_type="medication")
    recipient = NotificationRecipient.objects.create(notification=notification, user=UserFactory())
    return Delivery.objects.create(
        recipient=recipient,
        channel="sms",
        status=status,
        provider=provider,
        provider_message_id=message_id,
    )


def post_json(provider: str, body: object, secret: str = SECRET):
    return Client().post(
        f"/hooks/{provider}/{secret}/status/", json.dumps(body), content_type="application/json"
    )


def test_a_clickatell_delivered_report_marks_the_delivery_delivered_once():
    sent = delivery("clickatell", "ct-1")
    report = {"messageId": "ct-1", "clientMessageId": "", "statusCode": 4, "status": "RECEIVED"}

    first = post_json("clickatell", report)
    again = post_json("clickatell", report)

    assert (first.status_code, first.json()) == (200, {"received": 1, "new": 1})
    assert (again.status_code, again.json()) == (200, {"received": 1, "new": 0})
    sent.refresh_from_db()
    assert sent.receipt_status == "delivered"
    assert sent.receipt_at is not None
    assert DeliveryReceipt.objects.filter(delivery=sent).count() == 1


@pytest.mark.parametrize(("code", "outcome"), [(7, "undelivered"), (10, "expired"), (3, "")])
def test_clickatell_status_codes_map_to_the_delivery_outcome(code, outcome):
    sent = delivery("clickatell", "ct-2")

    post_json("clickatell", {"messageId": "ct-2", "statusCode": code, "status": "X"})

    sent.refresh_from_db()
    assert sent.receipt_status == outcome


def test_an_unknown_status_is_stored_and_answered_200_without_changing_the_delivery():
    sent = delivery("bulksms", "bs-1")

    response = post_json(
        "bulksms", [{"id": "bs-1", "status": {"id": "WEIRD.x", "type": "WEIRD", "subtype": "x"}}]
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.receipt_status == ""
    [receipt] = DeliveryReceipt.objects.all()
    assert (receipt.delivery_id, receipt.provider_status, receipt.outcome) == (
        sent.pk,
        "WEIRD.x",
        "",
    )


def test_a_receipt_carrying_our_key_settles_an_unknown_send_as_sent():
    lost = delivery("bulksms", "", status=DeliveryStatus.UNKNOWN)

    post_json(
        "bulksms",
        [
            {
                "id": "bs-77",
                "userSuppliedId": f"delivery-{lost.pk}",
                "status": {"id": "DELIVERED.null", "type": "DELIVERED", "subtype": None},
            }
        ],
    )

    lost.refresh_from_db()
    assert (lost.status, lost.provider_message_id, lost.receipt_status) == (
        "sent",
        "bs-77",
        "delivered",
    )


def test_bulksms_failed_expired_is_expired():
    sent = delivery("bulksms", "bs-2")

    post_json(
        "bulksms",
        [
            {
                "id": "bs-2",
                "status": {"id": "FAILED.EXPIRED", "type": "FAILED", "subtype": "EXPIRED"},
            }
        ],
    )

    sent.refresh_from_db()
    assert sent.receipt_status == "expired"


def test_africastalking_posts_a_form_and_a_failure_is_undelivered():
    sent = delivery("africastalking", "ATXid_1")

    response = Client().post(
        f"/hooks/africastalking/{SECRET}/status/",
        {"id": "ATXid_1", "status": "AbsentSubscriber", "phoneNumber": "+27821234567"},
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.receipt_status == "undelivered"


def twilio_post(form: dict[str, str], *, signature: str | None = None, reference: str = ""):
    path = f"/hooks/twilio/{SECRET}/status/"
    if reference:
        path += "?" + urlencode({"reference": reference})
    url = f"https://medguard.example{path}"
    return Client().post(
        path,
        form,
        headers={"X-Twilio-Signature": signature or twilio_signature(url, form, "tw-token")},
    )


def test_a_signed_twilio_callback_marks_the_delivery_delivered():
    sent = delivery("twilio", "SM1")

    response = twilio_post(
        {"MessageSid": "SM1", "MessageStatus": "delivered"}, reference=f"delivery-{sent.pk}"
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.receipt_status == "delivered"


def test_a_twilio_callback_with_a_wrong_signature_is_refused_and_changes_nothing():
    sent = delivery("twilio", "SM2")

    response = twilio_post({"MessageSid": "SM2", "MessageStatus": "delivered"}, signature="forged")

    assert response.status_code == 403
    sent.refresh_from_db()
    assert sent.receipt_status == ""
    assert not DeliveryReceipt.objects.exists()


def test_a_wrong_url_secret_or_an_unknown_provider_is_a_404_and_nothing_is_stored():
    delivery("clickatell", "ct-9")
    report = {"messageId": "ct-9", "statusCode": 4}

    assert post_json("clickatell", report, secret="guess").status_code == 404
    assert post_json("nexmo", report).status_code == 404
    assert not DeliveryReceipt.objects.exists()


def test_no_configured_secret_turns_the_unsigned_webhooks_off(settings):
    settings.PROVIDER_WEBHOOK_SECRET = ""

    assert (
        post_json("clickatell", {"messageId": "x", "statusCode": 4}, secret="").status_code == 404
    )


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("clickatell", {"statusCode": 4}),
        ("clickatell", {"messageId": "x", "statusCode": "four"}),
        ("bulksms", [{"status": {"type": "DELIVERED"}}]),
        ("clickatell", "not json"),
    ],
)
def test_an_unreadable_report_is_a_400_naming_what_is_missing(provider, body):
    if body == "not json":
        response = Client().post(
            f"/hooks/{provider}/{SECRET}/status/", "{", content_type="application/json"
        )
    else:
        response = post_json(provider, body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"Not a {provider} status report: ")
    assert not DeliveryReceipt.objects.exists()


def test_a_report_for_a_message_we_do_not_know_is_stored_without_a_delivery():
    response = post_json("clickatell", {"messageId": "ct-unknown", "statusCode": 4})

    assert response.status_code == 200
    [receipt] = DeliveryReceipt.objects.all()
    assert receipt.delivery_id is None


def test_the_delivery_admin_shows_the_provider_and_its_receipts(admin_client):
    sent = delivery("clickatell", "ct-admin")
    post_json("clickatell", {"messageId": "ct-admin", "statusCode": 10, "status": "EXPIRED"})

    page = admin_client.get(f"/admin/notifications/delivery/{sent.pk}/change/")
    listing = admin_client.get("/admin/notifications/delivery/?receipt_status=expired")

    assert page.status_code == 200
    assert "EXPIRED" in page.text
    assert "Expired" in page.text
    assert f"/admin/notifications/delivery/{sent.pk}/change/" in listing.text
