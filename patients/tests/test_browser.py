"""The patient and caregiver pages in headless Chromium, as people use them: sign in by
typing, add a medicine with a custom time, see its reminder arrive (the header's badge
changes without a reload), take the dose with one tap, invite a caregiver who accepts in a
second browser, miss a dose and see it on the caregiver's page. Screenshots of each page,
English and Afrikaans, phone and desktop width, are test artefacts
(``var/artefacts/screenshots/<test>/``), and every page passes axe-core (serious and
critical: none)."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import socket
import subprocess
import time

import pytest
from django.core import mail

from medguard_backend.testing.chromium import Chromium
from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.pages import (
    AXE,
    PASSWORD,
    artefact_dir,
    screenshots,
    sign_in,
    wait_for,
)
from medications.followups import escalate_missed, mark_missed
from medications.models import Dose, Schedule
from medications.reminders import remind_schedule_now

REDIS = shutil.which("redis-server")


@pytest.fixture
def shared_cache(settings, tmp_path):
    """A private Redis as the cache of this process (the live server) and of the worker:
    the worker drops the cached unread count when it delivers, and the page must see it."""
    if REDIS is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/1"
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_patient_and_a_caregiver_use_the_pages_in_two_browsers(
    live_server, chromium, start_worker, shared_cache, tmp_path, request
):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: npm install --prefix var/node axe-core ({AXE})")
    shots = artefact_dir(request.node.name)
    audit: dict[str, list[str]] = {}
    thandi = UserFactory(username="thandi", first_name="Thandi", last_name="Nkosi")
    UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")
    start_worker(REDIS_URL=shared_cache, SITE_BASE_URL=live_server.url)
    base = live_server.url

    chromium.open(f"{base}/accounts/login/")
    screenshots(chromium, shots, "sign-in-en", audit)
    sign_in(chromium, base, "thandi")
    assert chromium.url == f"{base}/me/"
    screenshots(chromium, shots, "today-empty-en", audit)

    # A medicine with a custom time a few minutes from now, in Thandi's own time zone.
    chromium.click("a[href='/me/medicines/add/']")
    dose_time = (datetime.datetime.now(tz=thandi.timezone) + datetime.timedelta(minutes=3)).time()
    if dose_time < datetime.time(0, 5):
        pytest.skip("too close to midnight: the dose would fall on tomorrow")
    screenshots(chromium, shots, "add-medicine-en", audit)
    chromium.type_into("#id_name", "Amlodipine")
    chromium.type_into("#id_strength", "5 mg")
    chromium.type_into("#id_dosage", "1 tablet")
    chromium.type_into("#id_instructions", "With breakfast")
    chromium.evaluate("document.querySelector('#id_quantity_on_hand').value = ''")
    chromium.type_into("#id_quantity_on_hand", "28")
    # Chosen and typed as with a keyboard: "C" picks "Custom time" in the list; the time
    # field (Chromium's en-US control: hours, minutes, AM/PM) takes the digits and A or P.
    chromium.type_into("#id_slot", "C")
    assert chromium.evaluate("document.querySelector('#id_slot').value") == "custom"
    hour12 = dose_time.hour % 12 or 12
    chromium.type_into(
        "#id_custom_time", f"{hour12:02d}{dose_time:%M}{'A' if dose_time.hour < 12 else 'P'}"
    )
    assert chromium.evaluate("document.querySelector('#id_custom_time').value") == (
        f"{dose_time:%H:%M}"
    )
    chromium.click("main form button[type=submit]")
    assert re.fullmatch(rf"{base}/me/medicines/\d+/", chromium.url), chromium.url
    schedule = Schedule.objects.get(supply__patient=thandi)
    assert (schedule.slot, schedule.custom_time) == (
        "custom",
        dose_time.replace(second=0, microsecond=0),
    )
    screenshots(chromium, shots, "medicine-en", audit)

    # The reminder goes out (the worker delivers it); the badge changes on the open page.
    chromium.open(f"{base}/me/")
    chromium.evaluate("window.stillTheSamePage = true")
    assert chromium.evaluate("document.querySelector('.unread-badge').hidden") is True
    remind_schedule_now(schedule.pk)
    seen_at = time.monotonic()
    wait_for(lambda: chromium.text(".unread-badge .count") == "1", "the badge showing 1")
    assert chromium.evaluate("window.stillTheSamePage") is True
    assert chromium.evaluate("document.querySelector('.unread-badge').hidden") is False
    badge_seconds = time.monotonic() - seen_at
    chromium.click("header nav a[href='/notifications/']")
    assert "Amlodipine" in chromium.text("main")
    screenshots(chromium, shots, "notifications-en", audit)
    chromium.click("main article h2 a")
    assert "Amlodipine" in chromium.text("main")
    screenshots(chromium, shots, "notification-en", audit)
    for name, path in [
        ("preferences", "/notifications/preferences/"),
        ("account", "/accounts/phone/"),
        ("my-data", "/my-data/"),
    ]:
        chromium.open(f"{base}{path}")
        screenshots(chromium, shots, f"{name}-en", audit)

    # One tap takes the dose.
    chromium.open(f"{base}/me/")
    screenshots(chromium, shots, "today-en", audit)
    dose = Dose.objects.get(schedule=schedule)
    chromium.click(f"form[action='/me/doses/{dose.pk}/take/'] button")
    dose.refresh_from_db()
    assert dose.status == Dose.Status.TAKEN
    assert chromium.text(".messages") == "Dose recorded as taken."

    # Invite Naledi; she accepts in a browser of her own.
    chromium.click("header nav a[href='/me/caregivers/']")
    chromium.type_into("#id_email", "naledi@example.org")
    # A missed dose reaches her at once (typed over the offered delay).
    chromium.evaluate("document.querySelector('#id_escalation_delay_minutes').value = ''")
    chromium.type_into("#id_escalation_delay_minutes", "0")
    chromium.click("#invite-title + form button")
    assert chromium.text(".messages") == "Invitation sent to naledi@example.org."
    (invitation,) = mail.outbox
    link = re.search(rf"{re.escape(base)}/me/caregivers/accept/\S+/", invitation.body)[0]
    screenshots(chromium, shots, "caregivers-en", audit)

    naledi = Chromium(tmp_path / "naledi-profile")
    try:
        naledi.send("Network.enable", session=True)
        naledi.open(link)
        naledi.type_into("#id_login", "naledi")
        naledi.type_into("#id_password", PASSWORD)
        naledi.press_enter()
        assert "Thandi Nkosi asks you to look after them" in naledi.text("main")
        screenshots(naledi, shots, "accept-en", audit)
        naledi.click("main form button")
        assert naledi.url == f"{base}/me/caring/{thandi.pk}/"

        # A dose Thandi did not take becomes missed; Naledi sees it on her page, and its
        # escalation arrives: her badge changes on the open page, and the message gives
        # the dose time on Thandi's clock, named with her zone.
        earlier = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=3)
        missed = Dose.objects.create(schedule=schedule, due_at=earlier)
        now = datetime.datetime.now(tz=datetime.UTC)
        assert mark_missed(now) == 1
        naledi.open(naledi.url)
        assert naledi.evaluate("document.querySelectorAll('.missed-dose').length") == 1
        # Medication details were not allowed on this link: no medicine name.
        assert "Amlodipine" not in naledi.text("main")
        assert naledi.evaluate("document.querySelector('.unread-badge').hidden") is True
        naledi.evaluate("window.stillTheSamePage = true")
        assert escalate_missed(now) == 1
        wait_for(lambda: naledi.text(".unread-badge .count") == "1", "Naledi's badge showing 1")
        assert naledi.evaluate("window.stillTheSamePage") is True
        screenshots(naledi, shots, "caring-en", audit)
        naledi.click("header nav a[href='/notifications/']")
        naledi.click("main article h2 a")
        local_due = missed.due_at.astimezone(thandi.timezone)
        told = f"Thandi Nkosi has not recorded their {local_due:%H:%M} (Africa/Johannesburg time)"
        assert f"{told} dose." in naledi.text("main")
        assert "Amlodipine" not in naledi.text("main")
        screenshots(naledi, shots, "escalation-en", audit)
        naledi.click("button[name=language][value=af]")
        assert "(Africa/Johannesburg-tyd)" in naledi.text("main")
        screenshots(naledi, shots, "escalation-af", audit)
        naledi.open(f"{base}/me/caring/{thandi.pk}/")
        screenshots(naledi, shots, "caring-af", audit)
    finally:
        naledi.close()

    # The same pages in Afrikaans.
    chromium.click("button[name=language][value=af]")
    assert chromium.evaluate("document.documentElement.lang") == "af"
    for name, path in [
        ("today", "/me/"),
        ("add-medicine", "/me/medicines/add/"),
        ("medicine", f"/me/medicines/{schedule.supply_id}/"),
        ("notifications", "/notifications/"),
        ("preferences", "/notifications/preferences/"),
        ("account", "/accounts/phone/"),
        ("my-data", "/my-data/"),
        ("caregivers", "/me/caregivers/"),
    ]:
        chromium.open(f"{base}{path}")
        screenshots(chromium, shots, f"{name}-af", audit)
    assert chromium.text("h1") == "Versorgers"

    (tmp_path / "timings.json").write_text(json.dumps({"badge_seconds": badge_seconds}))
    assert len(list(shots.glob("*.png"))) == 2 * len(audit) == 2 * 24
    assert {page: problems for page, problems in audit.items() if problems} == {}
