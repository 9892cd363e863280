"""Registering phones (Expo push tokens) and browsers (Web Push subscriptions)."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from medguard_backend.testing.factories import PushDeviceFactory
from notifications.models import PushDevice

pytestmark = pytest.mark.django_db

TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"
APP_BODY = {"token": TOKEN, "platform": "android", "deviceModel": "Pixel 7", "osVersion": "14"}
ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc123:APA91b"
KEYS = {
    "p256dh": base64.urlsafe_b64encode(b"\x04" + b"k" * 64).decode().rstrip("="),
    "auth": base64.urlsafe_b64encode(b"a" * 16).decode().rstrip("="),
}
BROWSER_BODY = {"endpoint": ENDPOINT, "expirationTime": None, "keys": KEYS}


# --- Expo ---------------------------------------------------------------------------------------


def test_the_apps_body_registers_the_callers_phone(api, patient):
    response = api.post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 201
    assert response.json() == {**APP_BODY, "active": True}
    device = PushDevice.objects.get()
    assert (device.user, device.kind, device.token) == (patient, "expo", TOKEN)
    assert (device.platform, device.device_model, device.os_version) == ("android", "Pixel 7", "14")


def test_registering_again_reactivates_the_same_device(api, patient):
    PushDeviceFactory(user=patient, token=TOKEN, active=False, platform="ios")

    response = api.post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 200
    device = PushDevice.objects.get()
    assert device.active is True
    assert device.platform == "android"


HELD = (
    "This device is registered to another account. Sign out of that account on the device "
    "(or remove the device there) first."
)


def test_another_accounts_phone_is_refused_with_409_and_keeps_their_reminders(
    api, patient, other_patient
):
    theirs = PushDeviceFactory(
        user=other_patient, token=TOKEN, platform="ios", device_model="iPhone", os_version="17"
    )

    response = api.post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": HELD}
    device = PushDevice.objects.get()
    assert (device.pk, device.user, device.active) == (theirs.pk, other_patient, True)
    assert (device.platform, device.device_model, device.os_version) == ("ios", "iPhone", "17")


def test_another_accounts_phone_is_refused_in_the_callers_language(
    api_client_for, patient, other_patient
):
    PushDeviceFactory(user=patient, token=TOKEN)

    response = api_client_for(other_patient).post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Hierdie toestel is by 'n ander rekening geregistreer. Meld eers op die "
        "toestel by daardie rekening af (of verwyder die toestel daar)."
    }
    assert PushDevice.objects.get().user == patient


def test_a_phone_its_owner_released_moves_to_the_caller(api_client_for, patient, other_patient):
    owner = api_client_for(other_patient)
    owner.post("/api/push-tokens/", APP_BODY, format="json")
    released = owner.delete(f"/api/push-tokens/{quote(TOKEN)}/")

    response = api_client_for(patient).post(
        "/api/push-tokens/", {**APP_BODY, "platform": "ios"}, format="json"
    )

    assert released.status_code == 204
    assert response.status_code == 200
    device = PushDevice.objects.get()
    assert (device.user, device.active, device.platform) == (patient, True, "ios")


def test_a_phone_the_push_service_reported_gone_moves_to_the_caller(api, patient, other_patient):
    PushDeviceFactory(user=other_patient, token=TOKEN, active=False)

    response = api.post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 200
    assert PushDevice.objects.get().user == patient


def test_a_phone_of_a_closed_account_moves_to_the_caller(api, patient, other_patient):
    PushDeviceFactory(user=other_patient, token=TOKEN)
    other_patient.is_active = False
    other_patient.save(update_fields=["is_active"])

    response = api.post("/api/push-tokens/", APP_BODY, format="json")

    assert response.status_code == 200
    assert PushDevice.objects.get().user == patient


@pytest.mark.parametrize(
    "token", ["abc", "ExponentPushToken[]", "ExponentPushToken[a b]", "ExponentPushToken[x]x"]
)
def test_a_token_not_in_expos_format_is_a_400_naming_it(api, token):
    response = api.post("/api/push-tokens/", {**APP_BODY, "token": token}, format="json")

    assert response.status_code == 400
    assert response.json() == {"token": ["Enter an Expo push token, like ExponentPushToken[…]."]}
    assert not PushDevice.objects.exists()


def test_unknown_platform_and_unknown_keys_are_refused_by_name(api):
    response = api.post(
        "/api/push-tokens/", {**APP_BODY, "platform": "symbian", "user": 1}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "platform": ['"symbian" is not a valid choice.'],
        "user": ["Unknown field."],
    }


def test_unregistering_deactivates_the_callers_token_and_is_idempotent(api, patient):
    PushDeviceFactory(user=patient, token=TOKEN)

    first = api.delete(f"/api/push-tokens/{quote(TOKEN)}/")
    second = api.delete(f"/api/push-tokens/{quote(TOKEN)}/")

    assert first.status_code == 204
    assert second.status_code == 204
    assert PushDevice.objects.get().active is False


def test_someone_elses_token_cannot_be_unregistered(api, other_patient):
    PushDeviceFactory(user=other_patient, token=TOKEN)

    response = api.delete(f"/api/push-tokens/{quote(TOKEN)}/")

    assert response.status_code == 404
    assert PushDevice.objects.get().active is True


def test_anonymous_callers_cannot_register_or_unregister(api_client_for):
    client = api_client_for()

    assert client.post("/api/push-tokens/", APP_BODY, format="json").status_code == 401
    assert client.delete(f"/api/push-tokens/{quote(TOKEN)}/").status_code == 401
    assert not PushDevice.objects.exists()


# --- Web Push -----------------------------------------------------------------------------------


def test_the_browsers_subscription_json_registers_as_it_comes(api, patient):
    response = api.post("/api/web-push-subscriptions/", BROWSER_BODY, format="json")

    assert response.status_code == 201
    assert response.json() == {"endpoint": ENDPOINT, "active": True}
    device = PushDevice.objects.get()
    assert (device.user, device.kind, device.token, device.keys) == (
        patient,
        "webpush",
        ENDPOINT,
        KEYS,
    )


def test_an_endpoint_that_is_not_https_is_refused(api):
    body = {**BROWSER_BODY, "endpoint": "http://push.example.org/send/1"}

    response = api.post("/api/web-push-subscriptions/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"endpoint": ["The endpoint must be an https:// address."]}


def test_keys_that_are_not_a_p256_key_and_a_16_byte_secret_are_refused_by_name(api):
    body = {**BROWSER_BODY, "keys": {"p256dh": "short", "auth": "!!", "extra": "x"}}

    response = api.post("/api/web-push-subscriptions/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "keys": {
            "p256dh": ["Enter the subscription's p256dh key."],
            "auth": ["Enter the subscription's auth secret."],
            "extra": ["Unknown field."],
        }
    }


def test_a_subscription_is_unregistered_by_its_endpoint(api, patient, other_patient):
    api.post("/api/web-push-subscriptions/", BROWSER_BODY, format="json")

    theirs = PushDeviceFactory(
        user=other_patient, kind="webpush", token="https://push.example.org/theirs"
    )
    mine = api.delete("/api/web-push-subscriptions/", QUERY_STRING=f"endpoint={quote(ENDPOINT)}")
    not_mine = api.delete(
        "/api/web-push-subscriptions/", QUERY_STRING=f"endpoint={quote(theirs.token)}"
    )
    missing = api.delete("/api/web-push-subscriptions/")

    assert mine.status_code == 204
    assert not_mine.status_code == 404
    assert missing.status_code == 400
    assert list(missing.json()) == ["endpoint"]
    assert PushDevice.objects.get(user=patient).active is False
    assert PushDevice.objects.get(user=other_patient).active is True


def test_another_accounts_browser_is_refused_with_409_and_keeps_their_reminders(
    api, patient, other_patient
):
    theirs_keys = {"p256dh": "theirs", "auth": "theirs"}
    PushDeviceFactory(user=other_patient, kind="webpush", token=ENDPOINT, keys=theirs_keys)

    response = api.post("/api/web-push-subscriptions/", BROWSER_BODY, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": HELD}
    device = PushDevice.objects.get()
    assert (device.user, device.active, device.keys) == (other_patient, True, theirs_keys)


def test_a_browser_its_owner_unsubscribed_moves_to_the_caller(
    api_client_for, patient, other_patient
):
    owner = api_client_for(other_patient)
    owner.post("/api/web-push-subscriptions/", BROWSER_BODY, format="json")
    released = owner.delete(
        "/api/web-push-subscriptions/", QUERY_STRING=f"endpoint={quote(ENDPOINT)}"
    )

    response = api_client_for(patient).post(
        "/api/web-push-subscriptions/", BROWSER_BODY, format="json"
    )

    assert released.status_code == 204
    assert response.status_code == 200
    device = PushDevice.objects.get()
    assert (device.user, device.active, device.keys) == (patient, True, KEYS)
