"""The pages behind the links in emails: inbox, one notification, preferences."""

from __future__ import annotations

import datetime

import pytest

from notifications.models import NotificationRecipient, RecipientStatus, UserNotificationPreferences
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

PREFERENCES_FORM = {
    "in_app_notifications_enabled": "on",
    "email_notifications_enabled": "on",
    "push_notifications_enabled": "on",
    "medication_reminders_enabled": "on",
    "stock_alerts_enabled": "on",
    "system_notifications_enabled": "on",
    "email_time_preference": "morning",
    "email_custom_time": "",
    "quiet_hours_enabled": "on",
    "quiet_hours_start": "22:00",
    "quiet_hours_end": "06:30",
}


def notify(user, title="Refill due", *, ack=False):
    return NotificationService.create_notification(
        title,
        f"{title}.\n\nSee your pharmacist.",
        "stock",
        "high",
        target_users=[user],
        require_acknowledgment=ack,
    )


@pytest.fixture
def signed_in(client, patient):
    client.force_login(patient)
    return client


# --- Login ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/notifications/", "/notifications/1/", "/notifications/preferences/"]
)
def test_every_page_sends_a_stranger_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


# --- Inbox and detail -----------------------------------------------------------------------------


def test_the_inbox_lists_the_users_own_notifications(signed_in, patient, other_patient):
    notify(patient, "Refill due")
    notify(other_patient, "Someone else's secret")

    response = signed_in.get("/notifications/")

    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Refill due" in html
    assert "secret" not in html
    assert '<html lang="en">' in html


def test_opening_a_notification_marks_it_read_and_shows_it(signed_in, patient):
    notification = notify(patient)

    response = signed_in.get(f"/notifications/{notification.pk}/")

    assert response.status_code == 200
    assert "See your pharmacist." in response.content.decode()
    assert NotificationRecipient.objects.get().status == RecipientStatus.READ


def test_someone_elses_notification_is_not_found(signed_in, other_patient):
    theirs = notify(other_patient, ack=True)

    assert signed_in.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert signed_in.post(f"/notifications/{theirs.pk}/acknowledge/").status_code == 404
    assert signed_in.post(f"/notifications/{theirs.pk}/dismiss/").status_code == 404
    assert signed_in.get(f"/notifications/{2**70}/").status_code == 404
    assert NotificationRecipient.objects.get().status == RecipientStatus.UNREAD


def test_acknowledge_and_dismiss_are_post_forms_with_csrf(signed_in, patient):
    notification = notify(patient, ack=True)

    page = signed_in.get(f"/notifications/{notification.pk}/").content.decode()

    assert f'action="/notifications/{notification.pk}/acknowledge/"' in page
    assert "csrfmiddlewaretoken" in page
    assert "/dismiss/" not in page  # acknowledgment comes first
    assert signed_in.get(f"/notifications/{notification.pk}/acknowledge/").status_code == 405


def test_acknowledging_then_dismissing_from_the_page(signed_in, patient):
    notification = notify(patient, ack=True)

    acknowledged = signed_in.post(f"/notifications/{notification.pk}/acknowledge/", follow=True)
    dismissed = signed_in.post(f"/notifications/{notification.pk}/dismiss/", follow=True)

    assert acknowledged.redirect_chain == [(f"/notifications/{notification.pk}/", 302)]
    assert "Acknowledged. Thank you." in acknowledged.content.decode()
    assert "Dismissed." in dismissed.content.decode()
    recipient = NotificationRecipient.objects.get()
    assert recipient.status == RecipientStatus.DISMISSED
    assert recipient.acknowledged_at is not None


def test_a_refused_change_is_explained_on_the_page(signed_in, patient):
    notification = notify(patient, ack=True)

    response = signed_in.post(f"/notifications/{notification.pk}/dismiss/", follow=True)

    assert "Acknowledge this notification before dismissing it." in response.content.decode()
    assert NotificationRecipient.objects.get().status == RecipientStatus.READ  # opened


def test_the_csrf_token_is_enforced_on_the_forms(client, patient):
    client.handler.enforce_csrf_checks = True
    client.force_login(patient)
    notification = notify(patient, ack=True)

    response = client.post(f"/notifications/{notification.pk}/acknowledge/")

    assert response.status_code == 403
    assert NotificationRecipient.objects.get().status == RecipientStatus.UNREAD


# --- Afrikaans and time zones ---------------------------------------------------------------------


def test_an_afrikaans_user_reads_the_pages_in_afrikaans(client, other_patient):
    client.force_login(other_patient)
    notify(other_patient)

    inbox = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en")
    preferences = client.get("/notifications/preferences/")

    assert inbox["Content-Language"] == "af"
    assert '<html lang="af">' in inbox.content.decode()
    assert "Jou kennisgewings" in inbox.content.decode()
    assert "Ongelees" in inbox.content.decode()
    assert "Kennisgewingvoorkeure" in preferences.content.decode()


def test_times_are_shown_in_the_users_time_zone(signed_in, patient):
    patient.timezone = "Europe/London"
    patient.save()
    notify(patient)
    NotificationRecipient.objects.update(
        created_at=datetime.datetime(2026, 11, 28, 8, 0, tzinfo=datetime.UTC)
    )

    html = signed_in.get("/notifications/").content.decode()

    assert "28 November 2026 08:00" in html
    assert 'datetime="2026-11-28T08:00:00+00:00"' in html


# --- Preferences ----------------------------------------------------------------------------------


def test_the_preferences_form_saves_hh_mm_times(signed_in, patient):
    response = signed_in.post("/notifications/preferences/", PREFERENCES_FORM, follow=True)

    assert response.redirect_chain == [("/notifications/preferences/", 302)]
    assert "Your preferences are saved." in response.content.decode()
    saved = UserNotificationPreferences.objects.get(user=patient)
    assert saved.quiet_hours_end == datetime.time(6, 30)
    assert saved.email_time_preference == "morning"
    assert saved.sms_notifications_enabled is False
    assert 'value="06:30"' in response.content.decode()


def test_an_invalid_time_is_shown_next_to_its_field(signed_in):
    response = signed_in.post(
        "/notifications/preferences/", {**PREFERENCES_FORM, "quiet_hours_start": "25:00"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"quiet_hours_start": ["Enter a valid time."]}
    assert 'id="id_quiet_hours_start_error"' in response.content.decode()
    assert not UserNotificationPreferences.objects.exists()


def test_custom_email_time_without_a_time_is_refused_on_that_field(signed_in):
    response = signed_in.post(
        "/notifications/preferences/", {**PREFERENCES_FORM, "email_time_preference": "custom"}
    )

    assert response.context["form"].errors == {
        "email_custom_time": ["Choose a time when the email time is “custom”."]
    }


def test_form_errors_are_in_the_users_language(client, other_patient):
    client.force_login(other_patient)

    response = client.post(
        "/notifications/preferences/", {**PREFERENCES_FORM, "quiet_hours_start": "25:00"}
    )

    html = response.content.decode()
    assert (
        '<ul class="errorlist" id="id_quiet_hours_start_error"><li>Tik \u2019n geldige tyd in.</li>'
        in html
    )


# --- In a real browser ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_patient_reads_and_acknowledges_in_headless_chromium(
    live_server, client, chromium, patient, tmp_path
):
    notify(patient, "Refill due")
    needs_ack = notify(patient, "Your dose changed", ack=True)
    client.force_login(patient)
    chromium.send(
        "Network.setCookie",
        session=True,
        name="sessionid",
        value=client.cookies["sessionid"].value,
        url=live_server.url,
    )
    chromium.send(
        "Emulation.setDeviceMetricsOverride",
        session=True,
        width=900,
        height=700,
        deviceScaleFactor=1,
        mobile=False,
    )

    chromium.open(f"{live_server.url}/notifications/")
    chromium.screenshot(tmp_path / "inbox.png")
    headings = chromium.evaluate(
        "[...document.querySelectorAll('article h2')].map(h => h.innerText)"
    )
    chromium.open(f"{live_server.url}/notifications/{needs_ack.pk}/")
    chromium.evaluate("document.querySelector('form[action$=\"/acknowledge/\"] button').click()")
    chromium.wait_for_load()
    status = chromium.evaluate("document.querySelector('[role=status]').innerText")

    assert headings == ["Your dose changed", "Refill due"]
    assert (tmp_path / "inbox.png").read_bytes().startswith(b"\x89PNG")
    assert status == "Acknowledged. Thank you."
    recipient = NotificationRecipient.objects.get(notification=needs_ack)
    assert recipient.status == RecipientStatus.ACKNOWLEDGED
