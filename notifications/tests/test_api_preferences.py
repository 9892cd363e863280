"""GET, PUT and PATCH /api/notification-preferences/."""

from __future__ import annotations

import datetime

import pytest

from medguard_backend.testing.factories import PreferencesFactory
from notifications.models import UserNotificationPreferences

pytestmark = pytest.mark.django_db

URL = "/api/notification-preferences/"
SEED_BODY = {
    "email_notifications_enabled": True,
    "email_time_preference": "morning",
    "quiet_hours_enabled": True,
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "08:00",
}
DEFAULTS = {
    "in_app_notifications_enabled": True,
    "email_notifications_enabled": True,
    "sms_notifications_enabled": False,
    "push_notifications_enabled": True,
    "medication_reminders_enabled": True,
    "stock_alerts_enabled": True,
    "system_notifications_enabled": True,
    "show_medication_names_in_sms_push": False,
    "email_time_preference": "immediate",
    "email_custom_time": None,
    "quiet_hours_enabled": False,
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "07:00",
}


def test_a_user_without_preferences_reads_the_defaults_and_nothing_is_stored(api):
    response = api.get(URL)

    assert response.status_code == 200
    assert response.json() == {**DEFAULTS, "updated_at": None}
    assert not UserNotificationPreferences.objects.exists()


def test_seed_put_body_is_saved_and_other_fields_keep_their_values(api, patient):
    PreferencesFactory(user=patient, sms_notifications_enabled=True)

    response = api.put(URL, SEED_BODY, format="json")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in SEED_BODY} == SEED_BODY
    assert body["sms_notifications_enabled"] is True
    stored = UserNotificationPreferences.objects.get(user=patient)
    assert stored.quiet_hours_start == datetime.time(22, 0)
    assert stored.quiet_hours_end == datetime.time(8, 0)
    assert stored.email_time_preference == "morning"


def test_the_first_put_creates_the_row_for_the_caller_only(api, patient, other_patient):
    response = api.put(URL, SEED_BODY, format="json")

    assert response.status_code == 200
    assert UserNotificationPreferences.objects.get().user == patient


def test_patch_changes_only_the_given_field(api, patient):
    PreferencesFactory(user=patient, quiet_hours_enabled=True)

    response = api.patch(URL, {"sms_notifications_enabled": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        **DEFAULTS,
        "quiet_hours_enabled": True,
        "sms_notifications_enabled": True,
        "updated_at": response.json()["updated_at"],
    }


@pytest.mark.parametrize("value", ["25:00", "22:00:00", "10pm", "", 2200])
def test_a_time_not_written_hh_mm_is_a_400_naming_the_field(api, value):
    response = api.patch(URL, {"quiet_hours_start": value}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["quiet_hours_start"]


def test_custom_email_time_needs_a_time(api):
    response = api.put(URL, {"email_time_preference": "custom"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "email_custom_time": ["Choose a time when the email time is “custom”."]
    }


def test_custom_email_time_with_a_time_is_saved(api, patient):
    response = api.put(
        URL, {"email_time_preference": "custom", "email_custom_time": "06:30"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["email_custom_time"] == "06:30"
    assert UserNotificationPreferences.objects.get(user=patient).email_custom_time == (
        datetime.time(6, 30)
    )


def test_an_unknown_email_time_is_a_400_naming_the_field(api):
    response = api.patch(URL, {"email_time_preference": "noon"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email_time_preference": ['"noon" is not a valid choice.']}


def test_unknown_and_read_only_fields_are_refused_by_name(api):
    response = api.put(
        URL,
        {**SEED_BODY, "user": 99, "updated_at": "2026-01-01T00:00:00Z", "quiet_hour_end": "07:00"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "user": ["Unknown field."],
        "updated_at": ["This field is read-only."],
        "quiet_hour_end": ["Unknown field."],
    }
    assert not UserNotificationPreferences.objects.exists()


def test_errors_follow_accept_language(api):
    response = api.patch(
        URL,
        {"quiet_hours_start": "25:00", "colour": "blue"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="af",
    )

    assert response.status_code == 400
    assert response.json() == {
        "quiet_hours_start": [
            "Tyd het die verkeerde formaat. Gebruik eerder een van hierdie formate: hh:mm."
        ],
        "colour": ["Onbekende veld."],
    }


def test_without_accept_language_errors_follow_the_users_preferred_language(
    api_client_for, other_patient
):
    response = api_client_for(other_patient).patch(
        URL, {"email_time_preference": "custom"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "email_custom_time": ["Kies 'n tyd wanneer die e-postyd “op 'n tyd wat ek kies” is."]
    }


def test_accept_language_wins_over_the_preferred_language(api_client_for, other_patient):
    response = api_client_for(other_patient).patch(
        URL, {"colour": "blue"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.json() == {"colour": ["Unknown field."]}


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.put(URL, ["email_notifications_enabled"], format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_anonymous_callers_get_401_for_reads_and_writes(api_client_for):
    client = api_client_for()

    assert client.get(URL).status_code == 401
    assert client.put(URL, SEED_BODY, format="json").status_code == 401
    assert client.patch(URL, SEED_BODY, format="json").status_code == 401
    assert not UserNotificationPreferences.objects.exists()
