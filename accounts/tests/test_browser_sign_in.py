"""Every demo person, in headless Chromium: open the link in an email they really received,
sign in by typing the demo password, and land on the page the link names."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from demo.medications import load_demo_medications
from demo.notifications import load_demo_notifications
from demo.people import DEMO_PASSWORD, load_demo_people
from notifications.models import Notification

# Whose email each person follows: the demo's welcome note, or their dose reminder.
EMAIL_FOLLOWED = {
    "admin": "demo-welcome-en",
    "thandi": "demo-reminder-thandi",
    "johan": "demo-reminder-johan",
    "naledi": "demo-welcome-en",
}


def email_linking_to(smtp_server, address: str, link: str, timeout: float = 120):
    """The message to ``address`` whose text carries ``link``, once it has arrived."""
    deadline = time.monotonic() + timeout
    while True:
        for message in smtp_server.messages:
            if message["To"] == address and link in message.get_body(("plain",)).get_content():
                return message
        if time.monotonic() > deadline:
            raise AssertionError(f"no email to {address} linking to {link} within {timeout}s")
        time.sleep(0.2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_each_demo_person_signs_in_by_typing_and_lands_on_the_page_their_email_names(
    live_server, chromium, smtp_server, start_worker, tmp_path
):
    cache.clear()  # sign-in rate limits start from zero
    people = load_demo_people()
    start_worker(**smtp_server.environ(), SITE_BASE_URL=live_server.url)
    load_demo_medications(people)  # the reminders are for the demo patients' own medicines
    load_demo_notifications(people)
    chromium.send(
        "Emulation.setDeviceMetricsOverride",
        session=True,
        width=390,
        height=844,
        deviceScaleFactor=1,
        mobile=True,
    )

    landed = {}
    for username, idempotency_key in EMAIL_FOLLOWED.items():
        notification = Notification.objects.get(idempotency_key=idempotency_key)
        link = f"{live_server.url}/notifications/{notification.pk}/"
        email = email_linking_to(smtp_server, f"{username}@example.org", link)
        chromium.forget_cookies()

        chromium.open(link)
        sign_in_page = (chromium.url, chromium.text("h1"))
        chromium.type_into("#id_login", username)
        chromium.type_into("#id_password", DEMO_PASSWORD)
        chromium.press_enter()
        chromium.screenshot(tmp_path / f"{username}.png")

        landed[username] = {
            "url": chromium.url,
            "sign-in page": sign_in_page,
            "heading": chromium.text("h1"),
            "email subject": email["Subject"],
            "lang": chromium.evaluate("document.documentElement.lang"),
            "first menu item": chromium.text("header nav a"),
            "signed in as": chromium.text("header .who"),
        }

    sign_in_url = f"{live_server.url}/accounts/login/?next=/notifications/"
    for username, idempotency_key in EMAIL_FOLLOWED.items():
        page = landed[username]
        notification_id = Notification.objects.get(idempotency_key=idempotency_key).pk
        assert page["url"] == f"{live_server.url}/notifications/{notification_id}/", username
        assert page["sign-in page"] == (f"{sign_in_url}{notification_id}/", "Sign in"), username
        if username in ("admin", "naledi"):
            assert page["heading"] == page["email subject"], username
        assert (tmp_path / f"{username}.png").read_bytes().startswith(b"\x89PNG")
    assert {name: page["lang"] for name, page in landed.items()} == {
        "admin": "en",
        "thandi": "en",
        "johan": "af",
        "naledi": "en",
    }
    assert landed["johan"]["first menu item"] == "Vandag"  # "Today", the patient pages come first
    assert landed["thandi"]["first menu item"] == "Today"
    assert {name: page["signed in as"] for name, page in landed.items()} == {
        "admin": "Ayanda Admin",
        "thandi": "Thandi Mokoena",
        "johan": "Johan van der Merwe",
        "naledi": "Naledi Dlamini",
    }
    assert landed["johan"]["heading"] == "Tyd om Amlodipine 5 mg te neem"
    assert landed["thandi"]["heading"] == "Time to take Metformin 500 mg"
    # A mail preview names no medicine unless the person chose so (PRIVACY.md); the page,
    # behind the sign-in, does.
    assert landed["thandi"]["email subject"] == "Time to take your medication"
    assert landed["johan"]["email subject"] == "Tyd om jou medikasie te neem"
