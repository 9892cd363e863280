"""FCM HTTP v1 through the real pipeline (claim, decide, render, send, record) against a
loopback stand-in for FCM and Google's token endpoint: the service-account JWT exchanged
for an access token, kept, and renewed after a 401; gone tokens deactivated; rate limits
and outages retried (Retry-After honoured); a send without an answer left unknown and never
resent blindly."""

from __future__ import annotations

import datetime
import time

import pytest
import time_machine

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from medguard_backend.testing.fcm import (
    CLIENT_EMAIL,
    GOOGLE_TOKEN_AUDIENCE,
    PROJECT,
    SCOPE,
    FcmStandIn,
    fcm_error,
)
from medguard_backend.testing.providers import HANG, Answer
from notifications.channels.push import fcm_auth
from notifications.channels.push.fcm import quiet_period
from notifications.delivery import outbox
from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery, DeliveryAttempt, PushDevice
from notifications.receipts.outcomes import reconcile_unknown
from notifications.services import NotificationService
from notifications.tests.rendering_cases import CONTEXTS, MEDICATION

# 10:00 in Johannesburg: outside anyone's quiet hours.
MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)
FCM_TOKEN = "dTq1C0ffee00000000000:APA91b" + "F" * 134


@pytest.fixture
def fcm(settings, provider_server, tmp_path):
    stand_in = FcmStandIn(provider_server, tmp_path)
    settings.FCM_CREDENTIALS_FILE = stand_in.credentials_file
    settings.FCM_API_URL = provider_server.url
    settings.FCM_TTL_SECONDS = 1800
    settings.EXPO_API_URL = provider_server.url
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "push": "notifications.channels.push.ProviderPushTransport",
    }
    fcm_auth.forget_tokens()
    quiet_period.reset()
    with time_machine.travel(MORNING, tick=True):
        yield stand_in
    fcm_auth.forget_tokens()
    quiet_period.reset()


def android_phone(user=None, token: str = FCM_TOKEN) -> PushDevice:
    return PushDeviceFactory(user=user or UserFactory(), kind="fcm", token=token)


def send_push(users, *, event: str = "custom") -> list[int]:
    if event == "custom":
        notification = NotificationService.create_notification("Reminder", "Time for your dose")
    else:
        notification = NotificationService.create_notification(
            "", "", notification_type="medication", event=event, context=CONTEXTS[event]
        )
    NotificationService.send_notification_to_users(users, notification, channels=["push"])
    return list(
        Delivery.objects.filter(recipient__notification=notification, channel="push")
        .order_by("id")
        .values_list("id", flat=True)
    )


@pytest.mark.django_db
def test_a_push_to_an_android_token_goes_to_fcm_with_a_service_account_token(fcm, provider_server):
    device = android_phone()
    [delivery_id] = send_push([device.user])

    summary = send_deliveries([delivery_id])

    assert summary.sent == 1
    [exchange] = provider_server.requests_to("/token")
    assert exchange.form()["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    [claims] = fcm.assertions
    assert (claims["iss"], claims["aud"], claims["scope"]) == (
        CLIENT_EMAIL,
        GOOGLE_TOKEN_AUDIENCE,
        SCOPE,
    )
    [sent] = provider_server.requests_to(fcm.send_path)
    assert sent.headers["authorization"] == f"Bearer {fcm.issued[0]}"
    assert sent.json() == {
        "message": {
            "token": FCM_TOKEN,
            "notification": {"title": "Reminder", "body": "Time for your dose"},
            "data": {"deliveryId": str(delivery_id)},
            "android": {"ttl": "1800s", "priority": "high"},
        }
    }
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "sent"
    assert delivery.provider == "fcm"
    assert delivery.provider_message_id.startswith(f"projects/{PROJECT}/messages/")
    [attempt] = delivery.attempts_log.all()
    assert (attempt.outcome, attempt.provider, attempt.provider_message_id) == (
        "sent",
        "fcm",
        delivery.provider_message_id,
    )


@pytest.mark.django_db
def test_the_access_token_is_kept_for_later_sends_until_shortly_before_it_expires(
    fcm, provider_server
):
    first = send_push([android_phone().user])
    second = send_push([android_phone(token=FCM_TOKEN + "2").user])

    send_deliveries(first)
    send_deliveries(second)
    assert len(provider_server.requests_to("/token")) == 1
    # Issued for 3599 s: 57 minutes later it is about to expire and is renewed first.
    third = send_push([android_phone(token=FCM_TOKEN + "3").user])
    with time_machine.travel(MORNING + datetime.timedelta(minutes=57), tick=True):
        send_deliveries(third)

    assert len(provider_server.requests_to("/token")) == 2
    [*_, last] = provider_server.requests_to(fcm.send_path)
    assert last.headers["authorization"] == f"Bearer {fcm.issued[1]}"
    assert Delivery.objects.filter(status="sent").count() == 3


@pytest.mark.django_db
def test_the_lock_screen_text_names_no_medication_unless_the_patient_chose_so(fcm, provider_server):
    private, open_about_it = UserFactory(), UserFactory()
    PreferencesFactory(user=open_about_it, show_medication_names_in_sms_push=True)
    android_phone(private)
    android_phone(open_about_it, token=FCM_TOKEN + "2")
    ids = send_push([private, open_about_it], event="medication_reminder")

    send_deliveries(ids)

    shown = {
        r.json()["message"]["token"]: str(r.json()["message"]["notification"])
        for r in provider_server.requests_to(fcm.send_path)
    }
    medicine = MEDICATION.split()[0]
    assert medicine not in shown[FCM_TOKEN]
    assert medicine in shown[FCM_TOKEN + "2"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (fcm_error(404, "NOT_FOUND", "UNREGISTERED"), "fcm: UNREGISTERED"),
        (fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), "fcm: SENDER_ID_MISMATCH"),
    ],
)
def test_a_gone_token_fails_the_delivery_at_once_and_deactivates_the_device(
    fcm, provider_server, answer, reason
):
    device = android_phone()
    [delivery_id] = send_push([device.user])
    provider_server.script(fcm.send_path, answer)

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == ("failed", reason)
    device.refresh_from_db()
    assert device.active is False
    assert len(provider_server.requests_to(fcm.send_path)) == 1


@pytest.mark.django_db
def test_an_unregistered_token_does_not_stop_the_patients_other_phone(fcm, provider_server):
    user = UserFactory()
    gone = android_phone(user)
    kept = android_phone(user, token=FCM_TOKEN + "2")
    fcm.unregistered.add(gone.token)
    [delivery_id] = send_push([user])

    send_deliveries([delivery_id])

    assert Delivery.objects.get(pk=delivery_id).status == "sent"
    assert PushDevice.objects.get(pk=gone.pk).active is False
    assert PushDevice.objects.get(pk=kept.pk).active is True


@pytest.mark.django_db
def test_an_invalid_message_fails_permanently_and_the_device_stays(fcm, provider_server):
    device = android_phone()
    [delivery_id] = send_push([device.user])
    provider_server.script(fcm.send_path, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"))

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "fcm refused the message: INVALID_ARGUMENT",
    )
    assert PushDevice.objects.get(pk=device.pk).active is True


@pytest.mark.django_db
def test_a_rate_limit_with_a_short_retry_after_is_waited_out_and_the_message_sent(
    fcm, provider_server
):
    [delivery_id] = send_push([android_phone().user])
    provider_server.script(
        fcm.send_path,
        Answer(
            429,
            fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED").body,
            headers={"Retry-After": "1"},
        ),
    )

    started = time.monotonic()
    send_deliveries([delivery_id])

    assert time.monotonic() - started >= 1
    assert Delivery.objects.get(pk=delivery_id).status == "sent"
    assert len(provider_server.requests_to(fcm.send_path)) == 2


@pytest.mark.django_db
def test_an_outage_goes_back_to_the_outbox_with_back_off_and_is_sent_later(fcm, provider_server):
    [delivery_id] = send_push([android_phone().user])
    provider_server.script(fcm.send_path, fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"))

    summary = send_deliveries([delivery_id])

    assert summary.retrying == 1
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "pending"
    assert delivery.last_error == "fcm server error (HTTP 503): UNAVAILABLE"
    assert delivery.not_before > MORNING
    with time_machine.travel(delivery.not_before + datetime.timedelta(seconds=1), tick=True):
        send_deliveries([delivery_id])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider) == ("sent", "fcm")
    assert [a.outcome for a in delivery.attempts_log.all()] == ["temporary_failure", "sent"]


@pytest.mark.django_db
def test_a_long_retry_after_holds_back_every_fcm_send_of_the_process_until_then(
    fcm, provider_server
):
    first = send_push([android_phone().user])
    second = send_push([android_phone(token=FCM_TOKEN + "2").user])
    provider_server.script(
        fcm.send_path,
        Answer(
            429,
            fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED").body,
            headers={"Retry-After": "120"},
        ),
    )

    send_deliveries(first)
    send_deliveries(second)

    assert len(provider_server.requests_to(fcm.send_path)) == 1
    assert Delivery.objects.get(pk=second[0]).status == "pending"
    assert "Retry-After" in Delivery.objects.get(pk=second[0]).last_error


@pytest.mark.django_db
def test_a_refused_access_token_is_renewed_once_and_the_message_sent(fcm, provider_server):
    send_deliveries(send_push([android_phone().user]))
    fcm.revoke_all()
    [delivery_id] = send_push([android_phone(token=FCM_TOKEN + "2").user])

    send_deliveries([delivery_id])

    assert Delivery.objects.get(pk=delivery_id).status == "sent"
    assert len(provider_server.requests_to("/token")) == 2
    *_, refused, accepted = provider_server.requests_to(fcm.send_path)
    assert refused.headers["authorization"] == f"Bearer {fcm.issued[0]}"
    assert accepted.headers["authorization"] == f"Bearer {fcm.issued[1]}"


@pytest.mark.django_db
def test_a_token_refused_twice_is_a_temporary_failure_not_a_loop(fcm, provider_server):
    [delivery_id] = send_push([android_phone().user])
    unauthenticated = fcm_error(401, "UNAUTHENTICATED")
    provider_server.script(fcm.send_path, unauthenticated, unauthenticated)

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "pending"
    assert delivery.last_error == "fcm refused our credentials (HTTP 401): UNAUTHENTICATED"
    assert len(provider_server.requests_to(fcm.send_path)) == 2
    assert len(provider_server.requests_to("/token")) == 2


@pytest.mark.django_db
def test_a_key_google_refuses_is_a_temporary_failure_and_fcm_is_not_called(fcm, provider_server):
    [delivery_id] = send_push([android_phone().user])
    provider_server.script(
        "/token", Answer(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
    )

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("fcm access token refused: invalid_grant")
    assert provider_server.requests_to(fcm.send_path) == []


@pytest.mark.django_db
def test_a_send_without_an_answer_is_unknown_and_never_resent_blindly(
    fcm, provider_server, settings
):
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 1
    [delivery_id] = send_push([android_phone().user])
    provider_server.script(fcm.send_path, HANG)

    send_deliveries([delivery_id])
    time.sleep(1.5)
    outbox.sweep()
    send_deliveries([delivery_id])
    with time_machine.travel(MORNING + datetime.timedelta(days=1), tick=True):
        assert reconcile_unknown() == {"resent": 0, "waiting": 0}

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.provider) == ("unknown", "fcm")
    [attempt] = DeliveryAttempt.objects.filter(delivery_id=delivery_id)
    assert attempt.outcome == "unknown"
    assert len(provider_server.requests_to(fcm.send_path)) == 1


@pytest.mark.django_db
def test_without_fcm_configured_an_android_token_fails_saying_so(fcm, provider_server, settings):
    settings.FCM_CREDENTIALS_FILE = ""
    device = android_phone()
    [delivery_id] = send_push([device.user])

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "fcm not configured (FCM_CREDENTIALS_FILE is not set)",
    )
    assert provider_server.requests_to("/token") == []
    assert PushDevice.objects.get(pk=device.pk).active is True


# --- Registering an FCM token through the app's endpoint -------------------------------------


@pytest.mark.django_db
def test_the_app_registers_an_fcm_token_as_an_fcm_device_and_can_remove_it(api, patient):
    body = {"token": FCM_TOKEN, "platform": "android", "deviceModel": "Pixel 7", "osVersion": "14"}

    created = api.post("/api/push-tokens/", body, format="json")
    removed = api.delete(f"/api/push-tokens/{FCM_TOKEN}/")

    assert created.status_code == 201
    assert created.json() == {**body, "active": True}
    assert removed.status_code == 204
    device = PushDevice.objects.get()
    assert (device.user, device.kind, device.token, device.active) == (
        patient,
        "fcm",
        FCM_TOKEN,
        False,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["short:APA91b", "has space " + "x" * 80, "x" * 401])
def test_a_token_that_is_neither_expos_nor_fcms_is_refused_naming_the_field(api, token):
    response = api.post("/api/push-tokens/", {"token": token, "platform": "android"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["token"]
    assert not PushDevice.objects.exists()


def test_an_fcm_token_in_a_request_path_is_redacted_from_logs():
    from medguard_backend.logging import redact_push_credentials

    line = f'"DELETE /api/push-tokens/{FCM_TOKEN}/ HTTP/1.1" 204'

    assert redact_push_credentials(line) == '"DELETE /api/push-tokens/[redacted]/ HTTP/1.1" 204'
