"""Amazon SES's events through its webhook (Amazon SNS posting to anymail's SES tracking view,
``/hooks/anymail/amazon_ses/tracking/``): an email sent through the pipeline to the SES
stand-in, then SES's documented Delivery / Bounce / Complaint / Open events as SNS posts
them, authenticated by basic auth; the subscription confirmed through a loopback SNS; and
hostile bodies answered 4xx, never 500.

The bodies follow AWS's documentation: SNS "HTTP/HTTPS notification JSON format" and
"HTTP/HTTPS subscription confirmation JSON format" (headers ``x-amz-sns-message-type``,
``x-amz-sns-message-id``, ``x-amz-sns-topic-arn``), and SES "Contents of event data that
Amazon SES publishes to Amazon SNS" (``eventType``, ``mail``, ``delivery``/``bounce``/...).
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from typing import Any

import pytest
import time_machine
from django.test import Client

from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from medguard_backend.testing.provider_answers import send_email_through_ses_at
from medguard_backend.testing.providers import Answer, ReceivedRequest
from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery, DeliveryReceipt
from notifications.services import NotificationService

HOOK = "/hooks/anymail/amazon_ses/tracking/"
SECRET = "ses-hooks:0pen-sesame"
AUTH = {"Authorization": "Basic " + base64.b64encode(SECRET.encode()).decode()}
TOPIC = "arn:aws:sns:af-south-1:123456789012:medguard-ses-events"
MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def amazon_ses(settings, provider_server):
    send_email_through_ses_at(settings, provider_server.url, WEBHOOK_SECRET=SECRET)
    with time_machine.travel(MORNING, tick=True):
        yield


def sent_through_ses() -> Delivery:
    """An email delivery sent through the real pipeline to the SES stand-in."""
    user = UserFactory(email="thandi@example.org")
    PreferencesFactory(user=user)
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users([user], notification, channels=["email"])
    delivery = Delivery.objects.get(recipient__notification=notification, channel="email")
    assert send_deliveries([delivery.pk]).sent == 1
    delivery.refresh_from_db()
    assert (delivery.provider, delivery.status) == ("amazon_ses", "sent")
    return delivery


def mail(message_id: str) -> dict[str, Any]:
    return {
        "timestamp": "2026-11-30T08:00:01.240Z",
        "source": "noreply@medguard.example",
        "sourceArn": "arn:aws:ses:af-south-1:123456789012:identity/medguard.example",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": ["thandi@example.org"],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "MedGuard <noreply@medguard.example>"},
            {"name": "To", "value": "thandi@example.org"},
            {"name": "Subject", "value": "Reminder"},
        ],
        "commonHeaders": {
            "from": ["MedGuard <noreply@medguard.example>"],
            "to": ["thandi@example.org"],
            "messageId": message_id,
            "subject": "Reminder",
        },
        "tags": {"ses:configuration-set": ["medguard"]},
    }


def ses_event(event_type: str, message_id: str) -> dict[str, Any]:
    details: dict[str, Any] = {
        "Delivery": {
            "delivery": {
                "timestamp": "2026-11-30T08:00:04.133Z",
                "processingTimeMillis": 2893,
                "recipients": ["thandi@example.org"],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": "mta.example.org",
            }
        },
        "Bounce": {
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": "thandi@example.org",
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": "2026-11-30T08:00:04.669Z",
                "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
                "reportingMTA": "dsn; mta.example.org",
            }
        },
        "Complaint": {
            "complaint": {
                "complainedRecipients": [{"emailAddress": "thandi@example.org"}],
                "timestamp": "2026-11-30T09:00:00.000Z",
                "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000001",
                "userAgent": "Mozilla/5.0",
                "complaintFeedbackType": "abuse",
                "arrivalDate": "2026-11-30T08:00:04.000Z",
            }
        },
        "Open": {
            "open": {
                "ipAddress": "192.0.2.1",
                "timestamp": "2026-11-30T08:10:00.000Z",
                "userAgent": "Mozilla/5.0",
            }
        },
    }[event_type]
    return {"eventType": event_type, "mail": mail(message_id), **details}


def sns(message_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": message_type,
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Timestamp": "2026-11-30T08:00:05.655Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVC"
        "khRS7fUQvi2egU3N8"
        "58fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.af-south-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        **fields,
    }


def notification(event: dict[str, Any]) -> dict[str, Any]:
    return sns(
        "Notification",
        Message=json.dumps(event),
        UnsubscribeURL=f"https://sns.af-south-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:c9135db0",
    )


def post(body: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> Any:
    """POST as SNS does: text/plain JSON with the message type and id in headers too."""
    sns_headers: dict[str, str] = {}
    if isinstance(body, dict):
        sns_headers = {
            "x-amz-sns-message-type": str(body.get("Type")),
            "x-amz-sns-message-id": str(body.get("MessageId")),
            "x-amz-sns-topic-arn": TOPIC,
        }
        body = json.dumps(body).encode()
    return Client().post(
        HOOK,
        body,
        content_type="text/plain; charset=utf-8",
        headers={
            "User-Agent": "Amazon Simple Notification Service Agent",
            **sns_headers,
            **(AUTH if headers is None else headers),
        },
    )


@pytest.mark.django_db
def test_ses_delivery_event_marks_the_email_sent_through_the_pipeline_delivered():
    delivery = sent_through_ses()

    response = post(notification(ses_event("Delivery", delivery.provider_message_id)))

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.receipt_status == "delivered"
    [receipt] = DeliveryReceipt.objects.filter(delivery=delivery)
    assert (receipt.provider, receipt.provider_status, receipt.outcome) == (
        "amazon_ses",
        "delivered",
        "delivered",
    )


@pytest.mark.django_db
def test_the_same_ses_event_posted_twice_changes_the_delivery_once():
    delivery = sent_through_ses()
    event = notification(ses_event("Bounce", delivery.provider_message_id))

    first, second = post(event), post(event)

    assert (first.status_code, second.status_code) == (200, 200)
    delivery.refresh_from_db()
    assert delivery.receipt_status == "undelivered"
    assert DeliveryReceipt.objects.filter(delivery=delivery).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "provider_status", "receipt_status"),
    [
        ("Bounce", "bounced", "undelivered"),
        # A complaint or an open says the email arrived but settles nothing by itself:
        # stored as it came, the delivery's receipt left as it was.
        ("Complaint", "complained", ""),
        ("Open", "opened", ""),
    ],
)
def test_each_ses_event_is_stored_and_moves_the_receipt_as_its_type_says(
    event_type, provider_status, receipt_status
):
    delivery = sent_through_ses()

    response = post(notification(ses_event(event_type, delivery.provider_message_id)))

    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.receipt_status == receipt_status
    assert DeliveryReceipt.objects.get(delivery=delivery).provider_status == provider_status


@pytest.mark.django_db
def test_an_event_for_a_message_we_never_sent_is_stored_without_a_delivery():
    response = post(notification(ses_event("Delivery", "0107019-unknown-000000")))

    assert response.status_code == 200
    assert DeliveryReceipt.objects.get().delivery_id is None


@pytest.mark.django_db
def test_snss_topic_validated_notice_is_answered_200_and_records_nothing():
    response = post(
        sns(
            "Notification",
            Message="Successfully validated SNS topic for Amazon SES event publishing.",
        )
    )

    assert response.status_code == 200
    assert not DeliveryReceipt.objects.exists()


@pytest.mark.django_db
def test_a_subscription_confirmation_is_confirmed_with_sns_in_the_topics_region(provider_server):
    def confirm_subscription(request: ReceivedRequest) -> Answer:
        return Answer(
            200,
            '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
            "<ConfirmSubscriptionResult><SubscriptionArn>"
            f"{TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
            "</SubscriptionArn></ConfirmSubscriptionResult>"
            "<ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId>"
            "</ResponseMetadata></ConfirmSubscriptionResponse>",
            headers={"Content-Type": "text/xml"},
        )

    provider_server.route("POST", "/", confirm_subscription)
    token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a7"

    response = post(
        sns(
            "SubscriptionConfirmation",
            Token=token,
            Message=f"You have chosen to subscribe to the topic {TOPIC}.",
            SubscribeURL=f"https://sns.af-south-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
        )
    )

    assert response.status_code == 200
    [request] = provider_server.requests_to("/")
    confirmed = request.form()
    assert (confirmed["Action"], confirmed["TopicArn"], confirmed["Token"]) == (
        "ConfirmSubscription",
        TOPIC,
        token,
    )
    assert "/af-south-1/sns/aws4_request" in request.headers["authorization"]


@pytest.mark.django_db
def test_without_credentials_sns_is_challenged_and_wrong_ones_are_refused():
    delivery = sent_through_ses()
    event = notification(ses_event("Delivery", delivery.provider_message_id))
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ses-hooks:guess").decode()}

    challenged = post(event, headers={})
    refused = post(event, headers=wrong)

    assert challenged.status_code == 401
    assert challenged["WWW-Authenticate"].startswith("Basic ")
    assert refused.status_code == 400
    delivery.refresh_from_db()
    assert delivery.receipt_status == ""
    assert not DeliveryReceipt.objects.exists()


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_without_a_webhook_secret_the_ses_webhook_does_not_exist(settings):
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}

    response = post(notification(ses_event("Delivery", "0107019-x-000000")), headers={})

    assert response.status_code == 404
    assert not DeliveryReceipt.objects.exists()


def delivery_event_with(**changes: Any) -> dict[str, Any]:
    event = ses_event("Delivery", "0107019-hostile-000000")
    event.update(changes)
    return notification(event)


HOSTILE = {
    "not JSON": b"this is not json",
    "JSON list": b"[1, 2, 3]",
    "not UTF-8": b"\xff\xfe{}",
    "Type missing": {"MessageId": "m-1"},
    "Type a number": {"Type": 5, "MessageId": "m-1"},
    "Type unknown": {"Type": "Shout", "MessageId": "m-1"},
    "MessageId a list": {"Type": "Notification", "MessageId": ["m"], "Message": "{}"},
    "Message a number": sns("Notification", Message=42),
    "Message nested JSON object": sns("Notification", Message={"eventType": "Delivery"}),
    "Message not JSON": sns("Notification", Message="hello"),
    "Message a JSON list": sns("Notification", Message="[]"),
    "event type missing": sns("Notification", Message=json.dumps({"mail": {"messageId": "x"}})),
    "Timestamp a number": sns("Notification", Timestamp=12, Message="{}"),
    "mail a string": delivery_event_with(mail="m"),
    "messageId a number": delivery_event_with(mail={"messageId": 7}),
    "header without name": delivery_event_with(
        mail={"messageId": "x", "headers": [{"value": "v"}]}
    ),
    "delivery recipients missing": delivery_event_with(delivery={}),
    "delivery recipients of numbers": delivery_event_with(delivery={"recipients": [1]}),
    "bounce without recipients": notification(
        {
            "eventType": "Bounce",
            "mail": {"messageId": "x"},
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General"},
        }
    ),
    "complaint a list": notification(
        {"eventType": "Complaint", "mail": {"messageId": "x"}, "complaint": []}
    ),
    "open a string": notification({"eventType": "Open", "mail": {"messageId": "x"}, "open": "o"}),
    "inbound email": notification({"notificationType": "Received", "mail": {"messageId": "x"}}),
    "confirmation without Token": sns("SubscriptionConfirmation"),
    "confirmation with a bad TopicArn": sns("SubscriptionConfirmation", Token="t", TopicArn="x"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_body_anymail_could_not_read_is_a_400_naming_the_field_never_a_500(body):
    response = post(body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert not DeliveryReceipt.objects.exists()


@pytest.mark.django_db
def test_sns_headers_that_do_not_match_the_body_are_refused():
    event = notification(ses_event("Delivery", "0107019-x-000000"))

    response = post(
        json.dumps(event).encode(),
        headers={
            **AUTH,
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-message-id": "another",
        },
    )

    assert response.status_code == 400
    assert not DeliveryReceipt.objects.exists()
