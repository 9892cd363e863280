"""Each provider through the real pipeline (``send_deliveries``: claim, render, send, record)
to its loopback stand-in, one provider at a time — the ones whose other tests drive the
transport directly: Africa's Talking and Twilio alone in ``SMS_BACKENDS``, Web Push, and the
ESPs Postmark, Mailgun and SendGrid through django-anymail. (Clickatell, BulkSMS and Expo:
``test_provider_pipeline.py``; FCM: ``test_fcm_push.py``; Amazon SES:
``test_email_amazon_ses.py``.)"""

from __future__ import annotations

import base64
import datetime
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from medguard_backend.testing.provider_answers import point_gateways_at
from medguard_backend.testing.providers import Answer, ReceivedRequest
from notifications.channels.sms.failover import reset_circuits
from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery, PushDevice
from notifications.services import NotificationService

MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def p256_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@pytest.fixture(autouse=True)
def morning():
    reset_circuits()
    with time_machine.travel(MORNING, tick=True):
        yield
    reset_circuits()


def one_delivery(channel: str, user: Any = None, **user_fields: str) -> Delivery:
    user = user or UserFactory(**user_fields)
    PreferencesFactory(user=user, sms_notifications_enabled=True)
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users([user], notification, channels=[channel])
    return Delivery.objects.get(recipient__notification=notification, channel=channel)


@pytest.fixture
def sms_gateways(settings, provider_server):
    settings.SMS_DAILY_LIMIT_PER_USER = 0
    settings.SMS_DAILY_LIMIT_TOTAL = 0
    point_gateways_at(settings, provider_server.url)
    settings.PROVIDER_WEBHOOK_SECRET = "hook-secret"
    settings.SITE_BASE_URL = "https://medguard.example"
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.GatewaySMSTransport",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("gateway", "path"),
    [
        ("africastalking", "/version1/messaging"),
        ("twilio", "/2010-04-01/Accounts/AC123/Messages.json"),
    ],
)
def test_a_reminder_sms_goes_through_the_pipeline_to_the_gateway_once(
    sms_gateways, settings, provider_server, gateway, path
):
    settings.SMS_BACKENDS = [gateway]
    delivery = one_delivery("sms", phone="+27821234567")

    summary = send_deliveries([delivery.pk])

    assert summary.sent == 1
    [request] = provider_server.requests_to(path)
    assert "+27821234567" in request.form().values()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider) == ("sent", gateway)
    assert delivery.provider_message_id


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose listener never accepts and whose queue is full: the kernel drops every
    further SYN, so a client's connect times out (nothing was written to the provider)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        while True:  # fill the accept queue until a connect no longer completes
            filler = socket.socket()
            filler.settimeout(0.3)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.django_db
def test_a_gateway_that_times_out_connecting_moves_the_sms_to_the_next(
    sms_gateways, settings, provider_server
):
    settings.SMS_BACKENDS = ["clickatell", "bulksms"]
    settings.CLICKATELL_API_KEY = "ct-key"
    settings.BULKSMS_TOKEN_ID = "bs-id"
    settings.BULKSMS_TOKEN_SECRET = "bs-secret"
    settings.BULKSMS_API_URL = provider_server.url
    settings.PROVIDER_CONNECT_TIMEOUT_SECONDS = 1
    delivery = one_delivery("sms", phone="+27821234567")

    with unanswered_port() as port:
        settings.CLICKATELL_API_URL = f"http://127.0.0.1:{port}"
        summary = send_deliveries([delivery.pk])

    assert summary.sent == 1
    assert len(provider_server.requests_to("/v1/messages")) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider) == ("sent", "bulksms")


def web_push_device(settings, provider_server) -> PushDevice:
    """A browser's subscription at the loopback push service, VAPID keys configured."""
    vapid = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(
        vapid.private_numbers().private_value.to_bytes(32, "big")
    )
    settings.WEBPUSH_VAPID_PUBLIC_KEY = b64url(p256_point(vapid))
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@medguard.example"
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "push": "notifications.channels.push.ProviderPushTransport",
    }
    browser = ec.generate_private_key(ec.SECP256R1())
    device: PushDevice = PushDeviceFactory(
        user=UserFactory(),
        kind=PushDevice.Kind.WEB_PUSH,
        token=f"{provider_server.url}/webpush/subscription-1",
        keys={"p256dh": b64url(p256_point(browser)), "auth": b64url(b"sixteen byte key")},
    )
    return device


@pytest.mark.django_db
def test_a_push_to_a_browser_goes_through_the_pipeline_as_web_push(settings, provider_server):
    device = web_push_device(settings, provider_server)
    delivery = one_delivery("push", user=device.user)

    summary = send_deliveries([delivery.pk])

    assert summary.sent == 1
    [request] = provider_server.requests_to("/webpush/subscription-1")
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["authorization"].startswith("vapid t=")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [404, 410])
def test_a_browser_subscription_the_push_service_calls_gone_is_deactivated(
    settings, provider_server, status
):
    device = web_push_device(settings, provider_server)
    delivery = one_delivery("push", user=device.user)
    provider_server.script("/webpush/subscription-1", Answer(status, None))

    send_deliveries([delivery.pk])

    device.refresh_from_db()
    delivery.refresh_from_db()
    assert device.active is False
    assert delivery.status == "failed"


def mailgun_accepts(request: ReceivedRequest) -> Answer:
    """Mailgun's ``POST /v3/<domain>/messages``: 200 with the queued message's id."""
    return Answer(200, {"id": f"<{uuid.uuid4().hex}@mg.medguard.example>", "message": "Queued"})


def sendgrid_accepts(request: ReceivedRequest) -> Answer:
    """SendGrid's v3 ``POST /v3/mail/send``: 202 Accepted, no body, the id in a header."""
    return Answer(202, None, headers={"X-Message-Id": uuid.uuid4().hex[:22]})


@pytest.mark.django_db
# anymail 15.2 warns it no longer supports SendGrid officially (README "Providers").
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
@pytest.mark.parametrize(
    ("esp", "backend", "path", "options"),
    [
        ("postmark", "postmark", "/email", {"POSTMARK_SERVER_TOKEN": "pm-token"}),
        (
            "mailgun",
            "mailgun",
            "/v3/mg.medguard.example/messages",
            {"MAILGUN_API_KEY": "mg-key", "MAILGUN_SENDER_DOMAIN": "mg.medguard.example"},
        ),
        ("sendgrid", "sendgrid", "/v3/mail/send", {"SENDGRID_API_KEY": "sg-key"}),
    ],
)
def test_an_email_goes_through_the_pipeline_to_the_esp_with_its_message_id_recorded(
    settings, provider_server, esp, backend, path, options
):
    provider_server.route("POST", "/v3/mg.medguard.example/messages", mailgun_accepts)
    provider_server.route("POST", "/v3/mail/send", sendgrid_accepts)
    api_url = {"postmark": "/", "mailgun": "/v3", "sendgrid": "/v3/"}[esp]
    settings.EMAIL_BACKEND = f"anymail.backends.{backend}.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "MedGuard <noreply@mg.medguard.example>"
    settings.ANYMAIL = {**options, f"{esp.upper()}_API_URL": provider_server.url + api_url}
    delivery = one_delivery("email", email="thandi@example.org")

    summary = send_deliveries([delivery.pk])

    assert summary.sent == 1
    [request] = provider_server.requests_to(path)
    # JSON (Postmark, SendGrid) or a form (Mailgun): the address either way.
    assert b"thandi@example.org" in request.body or b"thandi%40example.org" in request.body
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider) == ("sent", esp)
    assert delivery.provider_message_id
