"""Expo and Web Push against loopback stand-ins that answer as the services document,
including decrypting a Web Push payload with the subscription's own keys."""

from __future__ import annotations

import base64
import json
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from medguard_backend.testing.provider_answers import expo_ticket_error
from medguard_backend.testing.providers import HANG, Answer
from notifications.channels import (
    OutcomeUnknown,
    OutgoingMessage,
    PushTarget,
    SendReceipt,
    TransportError,
)
from notifications.channels.push import ProviderPushTransport


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


VAPID_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(autouse=True)
def push_services(settings, provider_server):
    settings.EXPO_API_URL = provider_server.url
    settings.EXPO_ACCESS_TOKEN = ""
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(
        VAPID_KEY.private_numbers().private_value.to_bytes(32, "big")
    )
    settings.WEBPUSH_VAPID_PUBLIC_KEY = b64url(public_point(VAPID_KEY))
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@medguard.example"
    settings.WEBPUSH_TTL_SECONDS = 600


def expo(device_id: int) -> PushTarget:
    return PushTarget(device_id, "expo", f"ExponentPushToken[device-{device_id}]")


def push(delivery_id: int, *targets: PushTarget) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=delivery_id,
        channel="push",
        to="",
        subject="Medication reminder",
        text="It is time for your 08:00 dose.",
        push_targets=targets,
        idempotency_key=f"delivery-{delivery_id}",
    )


def test_expo_gets_one_message_per_device_and_the_tickets_come_back_per_delivery(
    provider_server,
):
    [first, second] = ProviderPushTransport().send_batch(
        [push(1, expo(10), expo(11)), push(2, expo(20))]
    )

    [request] = provider_server.requests_to("/--/api/v2/push/send")
    assert request.json() == [
        {
            "to": f"ExponentPushToken[device-{device}]",
            "title": "Medication reminder",
            "body": "It is time for your 08:00 dose.",
            "sound": "default",
            "priority": "high",
            "data": {"deliveryId": delivery},
        }
        for delivery, device in ((1, 10), (1, 11), (2, 20))
    ]
    assert "authorization" not in request.headers
    assert isinstance(first, SendReceipt)
    assert isinstance(second, SendReceipt)
    assert first.provider == "expo"
    assert [device for device, _ticket in first.push_tickets] == [10, 11]
    assert [device for device, _ticket in second.push_tickets] == [20]
    assert first.provider_message_id == first.push_tickets[0][1]


def test_a_batch_goes_to_expo_in_chunks_of_one_hundred(provider_server):
    messages = [push(n, expo(n)) for n in range(1, 251)]

    outcomes = ProviderPushTransport().send_batch(messages)

    sizes = sorted(len(r.json()) for r in provider_server.requests_to("/--/api/v2/push/send"))
    assert sizes == [50, 100, 100]
    assert all(isinstance(outcome, SendReceipt) for outcome in outcomes)
    tickets = {outcome.push_tickets[0][1] for outcome in outcomes}
    assert len(tickets) == 250


def test_the_access_token_is_sent_as_a_bearer_token(settings, provider_server):
    settings.EXPO_ACCESS_TOKEN = "expo-secret"

    ProviderPushTransport().send(push(1, expo(1)))

    [request] = provider_server.requests_to("/--/api/v2/push/send")
    assert request.headers["authorization"] == "Bearer expo-secret"


def test_device_not_registered_marks_the_device_dead_and_the_other_device_still_counts(
    provider_server,
):
    provider_server.script(
        "/--/api/v2/push/send",
        Answer(
            200,
            {"data": [expo_ticket_error("DeviceNotRegistered"), {"status": "ok", "id": "t-1"}]},
        ),
    )

    receipt = ProviderPushTransport().send(push(1, expo(10), expo(11)))

    assert receipt.dead_device_ids == (10,)
    assert receipt.push_tickets == ((11, "t-1"),)


def test_a_delivery_whose_only_device_is_gone_fails_permanently_naming_the_device(
    provider_server,
):
    provider_server.script(
        "/--/api/v2/push/send",
        Answer(200, {"data": [expo_ticket_error("DeviceNotRegistered")]}),
    )

    with pytest.raises(TransportError) as raised:
        ProviderPushTransport().send(push(1, expo(10)))

    assert raised.value.permanent is True
    assert raised.value.dead_device_ids == (10,)
    assert raised.value.reason == "expo: DeviceNotRegistered"


@pytest.mark.parametrize(
    "answer",
    [
        Answer(429, {"errors": [{"code": "TOO_MANY_REQUESTS", "message": "Slow down"}]}),
        Answer(503, "Service Unavailable"),
    ],
)
def test_expo_rate_limits_and_server_errors_are_temporary(provider_server, answer):
    provider_server.script("/--/api/v2/push/send", answer)

    with pytest.raises(TransportError) as raised:
        ProviderPushTransport().send(push(1, expo(10)))

    assert raised.value.permanent is False
    assert not isinstance(raised.value, OutcomeUnknown)


def test_an_expo_chunk_without_an_answer_is_an_unknown_outcome(provider_server):
    provider_server.script("/--/api/v2/push/send", HANG)

    with pytest.raises(OutcomeUnknown):
        ProviderPushTransport().send(push(1, expo(10)))


def subscriber(provider_server, name: str = "browser-1"):
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    target = PushTarget(
        5,
        "webpush",
        f"{provider_server.url}/webpush/{name}",
        {"p256dh": b64url(public_point(key)), "auth": b64url(auth)},
    )
    return key, auth, target


def test_a_web_push_payload_is_readable_with_the_subscriptions_keys_and_signed_by_vapid(
    provider_server,
):
    key, auth, target = subscriber(provider_server)

    receipt = ProviderPushTransport().send(push(9, target))

    [request] = provider_server.requests_to("/webpush/browser-1")
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["ttl"] == "600"
    plain = http_ece.decrypt(request.body, private_key=key, auth_secret=auth, version="aes128gcm")
    assert json.loads(plain) == {
        "title": "Medication reminder",
        "body": "It is time for your 08:00 dose.",
        "deliveryId": 9,
    }
    scheme, _, params = request.headers["authorization"].partition(" ")
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert scheme == "vapid"
    assert unb64url(fields["k"]) == public_point(VAPID_KEY)
    header, claims, signature = fields["t"].split(".")
    raw = unb64url(signature)
    VAPID_KEY.public_key().verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{header}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == provider_server.url
    assert decoded["sub"] == "mailto:ops@medguard.example"
    assert receipt.provider == "webpush"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_web_push_subscription_is_reported_dead(provider_server, status):
    _key, _auth, target = subscriber(provider_server)
    provider_server.script("/webpush/browser-1", Answer(status, None))

    with pytest.raises(TransportError) as raised:
        ProviderPushTransport().send(push(1, target))

    assert raised.value.permanent is True
    assert raised.value.dead_device_ids == (5,)


def test_expo_and_web_push_devices_of_one_delivery_are_sent_together(provider_server):
    _key, _auth, target = subscriber(provider_server)

    receipt = ProviderPushTransport().send(push(1, expo(10), target))

    assert len(provider_server.requests_to("/webpush/browser-1")) == 1
    assert [device for device, _ticket in receipt.push_tickets] == [10]
    assert receipt.dead_device_ids == ()


@pytest.mark.django_db
def test_the_vapid_public_key_is_served_to_a_signed_in_browser(api, settings):
    response = api.get("/api/web-push/vapid-public-key/")

    assert response.status_code == 200
    assert response.json() == {"publicKey": settings.WEBPUSH_VAPID_PUBLIC_KEY}


@pytest.mark.django_db
def test_without_a_vapid_key_the_browser_is_told_web_push_is_not_configured(api, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = ""

    response = api.get("/api/web-push/vapid-public-key/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Web Push is not configured on this server."}
