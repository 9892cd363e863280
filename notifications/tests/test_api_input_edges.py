"""The answers the outside review found wrong, one by one: each is now a JSON 4xx naming
the problem, and nothing is written. (The generated battery is test_api_hostile_input.py.)"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory
from notifications.models import NotificationRecipient, PushDevice, UserNotificationPreferences
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


def notify(user, require_acknowledgment=False):
    return NotificationService.create_notification(
        "Notice",
        "Details",
        "system",
        target_users=[user],
        require_acknowledgment=require_acknowledgment,
    )


def status_of(notification, user) -> str:
    return NotificationRecipient.objects.get(notification=notification, user=user).status


def test_deep_nesting_to_the_anonymous_token_endpoint_is_a_400_saying_so(api_client_for):
    response = api_client_for().post("/api/auth/token/", data=DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "The JSON body is nested deeper than 10 levels."}


def test_deep_nesting_is_refused_in_afrikaans_for_an_afrikaans_caller(
    api_client_for, other_patient
):
    response = api_client_for(other_patient).patch(
        "/api/notification-preferences/", data=DEEP, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Die JSON-inhoud is dieper as 10 vlakke genestel."}
    assert not UserNotificationPreferences.objects.exists()


def test_a_nul_in_the_path_is_a_400_and_nothing_is_unregistered(api, patient):
    device = PushDeviceFactory(user=patient)

    response = api.delete("/api/push-tokens/a%00b/")

    assert response.status_code == 400
    assert response.json() == {"detail": "The address cannot contain a NUL character."}
    device.refresh_from_db()
    assert device.active is True


def test_a_nul_in_the_query_string_is_a_400(api):
    response = api.delete("/api/web-push-subscriptions/?endpoint=https://push.example/a%00b")

    assert response.status_code == 400
    assert response.json() == {"detail": "The address cannot contain a NUL character."}


def test_a_nul_in_a_body_string_is_a_400_and_nothing_is_written(api):
    response = api.post(
        "/api/push-tokens/",
        {"token": "ExponentPushToken[abc]", "platform": "ios", "deviceModel": "a\x00b"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "Text in the request body cannot contain a NUL character."}
    assert not PushDevice.objects.exists()


def test_a_lone_surrogate_is_a_400_not_an_error_echoing_it(api):
    response = api.post(
        "/api/push-tokens/",
        data='{"token": "ExponentPushToken[abc]", "platform": "\\ud800"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Text in the request body contains an unpaired UTF-16 surrogate escape."
    }


def test_a_body_that_is_not_utf8_is_a_400(api):
    response = api.patch(
        "/api/notification-preferences/",
        data=b'{"quiet_hours_start": "\xff"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid UTF-8."}


def test_a_body_without_a_content_type_is_a_415_not_ignored(api, patient):
    notification = notify(patient, require_acknowledgment=True)

    response = api.generic(
        "POST", f"/api/notifications/{notification.pk}/acknowledge/", b'{"a": 1}', ""
    )

    assert response.status_code == 415
    assert response.json() == {"detail": "Send the request body as application/json."}
    assert status_of(notification, patient) == "unread"


@pytest.mark.parametrize(
    "path",
    [
        "/api/doses/null,null/take/",
        "/api/notifications/abc/mark-read/",
        "/api/nothing-here/",
        "/api/notifications/1/",
    ],
)
def test_an_unknown_api_path_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_json_404_is_in_the_callers_language(api):
    response = api.get("/api/doses/null,null/take/", HTTP_ACCEPT_LANGUAGE="af")

    assert response.json() == {"detail": "Nie gevind nie."}


def test_a_method_an_endpoint_does_not_have_is_a_json_405(api):
    response = api.delete("/api/notifications/unread-count/")

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


@pytest.mark.parametrize("action", ["mark-read", "acknowledge", "dismiss"])
def test_an_action_refuses_fields_in_its_body_and_changes_nothing(api, patient, action):
    notification = notify(patient, require_acknowledgment=action == "acknowledge")

    response = api.post(
        f"/api/notifications/{notification.pk}/{action}/",
        {"status": "acknowledged", "user": 3},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"status": ["Unknown field."], "user": ["Unknown field."]}
    assert status_of(notification, patient) == "unread"


def test_an_action_refuses_malformed_json(api, patient):
    notification = notify(patient)

    response = api.post(
        f"/api/notifications/{notification.pk}/mark-read/",
        data='{"a": ',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["detail"]
    assert response.json()["detail"].startswith("The request body is not valid JSON: ")
    assert status_of(notification, patient) == "unread"


def test_mark_all_read_refuses_fields_in_its_body(api, patient):
    notification = notify(patient)

    response = api.post(
        "/api/notifications/mark-all-read/", {"before": "2026-01-01"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"before": ["Unknown field."]}
    assert status_of(notification, patient) == "unread"


def test_an_action_without_a_body_still_works(api, patient):
    notification = notify(patient)

    response = api.post(f"/api/notifications/{notification.pk}/mark-read/")

    assert response.status_code == 200
    assert status_of(notification, patient) == "read"


def test_a_string_for_a_boolean_is_refused_as_the_schema_says(api, patient):
    PreferencesFactory(user=patient, quiet_hours_enabled=False)

    response = api.patch(
        "/api/notification-preferences/", {"quiet_hours_enabled": "true"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"quiet_hours_enabled": ["Must be a valid boolean."]}
    assert UserNotificationPreferences.objects.get(user=patient).quiet_hours_enabled is False


def test_a_number_for_a_string_is_refused_as_the_schema_says(api):
    response = api.post(
        "/api/push-tokens/",
        {"token": "ExponentPushToken[abc]", "platform": "android", "osVersion": 14},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"osVersion": ["Not a valid string."]}
    assert not PushDevice.objects.exists()


def test_a_huge_id_in_the_path_is_a_404(api):
    response = api.post("/api/notifications/" + "9" * 40 + "/mark-read/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_push_token_path_too_long_for_any_token_is_a_404(api):
    response = api.delete(f"/api/push-tokens/{quote('ExponentPushToken[' + 'x' * 3000 + ']')}/")

    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "Not found."}
