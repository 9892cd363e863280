"""The pages behind the links in emails: inbox, one notification, preferences."""

from __future__ import annotations

import base64
import contextlib
import datetime
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

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

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _above_stdio(fd: int) -> int:
    """The same pipe end on a number above 9, so the shell's `3<&N 4>&M` cannot overwrite
    one end with the other."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-
    pipe``: JSON commands in on fd 3, answers out on fd 4, each ended by NUL), so the test
    needs no WebDriver and no extra Python package."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = (_above_stdio(fd) for fd in os.pipe())
        self._from_browser, from_browser_write = (_above_stdio(fd) for fd in os.pipe())
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        # bash (dash refuses fds above 9) puts the pipe ends on the numbers Chromium uses.
        self._process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$@" 3<&{to_browser_read} 4>&{from_browser_write}',
                "bash",
                CHROMIUM or "chromium",
                *flags,
            ],
            pass_fds=(to_browser_read, from_browser_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable", session=True)

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._from_browser], [], [], deadline - time.monotonic())[0]:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, *, session: bool = False, **params) -> dict:
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                assert "error" not in message, message
                return message["result"]
            self._events.append(message)

    def wait_for_load(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            if any(event.get("method") == "Page.loadEventFired" for event in self._events):
                self._events.clear()
                return
            self._events.append(self._message(deadline))

    def open(self, url: str) -> None:
        self._events.clear()
        self.send("Page.navigate", session=True, url=url)
        self.wait_for_load()

    def evaluate(self, expression: str):
        result = self.send(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True
        )
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def chromium(tmp_path):
    if CHROMIUM is None:
        # CI installs Chromium (.ci/run), so there a missing browser is a failure; on a
        # developer's machine without it the one browser test is skipped, saying why.
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (apt-get install chromium)")
        pytest.skip("needs Chromium (apt-get install chromium)")
    browser = Chromium(tmp_path / "profile")
    yield browser
    browser.close()


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
