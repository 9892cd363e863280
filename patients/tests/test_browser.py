"""The patient and caregiver pages in headless Chromium, as people use them: sign in by
typing, add a medicine with a custom time, see its reminder arrive (the header's badge
changes without a reload), take the dose with one tap, invite a caregiver who accepts in a
second browser, miss a dose and see it on the caregiver's page. Screenshots of each page,
English and Afrikaans, phone and desktop width, are written under the test's tmp dir."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core import mail

from medguard_backend.testing.chromium import Chromium
from medguard_backend.testing.factories import UserFactory
from medications.followups import mark_missed
from medications.models import Dose, Schedule
from medications.reminders import remind_schedule_now

PASSWORD = "long-test-password-1"
WIDTHS = {"phone": (390, 844, True), "desktop": (1280, 900, False)}
REDIS = shutil.which("redis-server")
# axe-core from the npm registry, installed by `npm install --prefix var/node axe-core`
# (.ci/run does it): injected into each page from this file, no CDN.
AXE = Path(__file__).resolve().parents[2] / "var/node/node_modules/axe-core/axe.min.js"
SERIOUS = ("serious", "critical")


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


def sign_in(browser: Chromium, base: str, username: str) -> None:
    browser.open(f"{base}/accounts/login/?next=/me/")
    browser.type_into("#id_login", username)
    browser.type_into("#id_password", PASSWORD)
    browser.press_enter()


def axe_problems(browser: Chromium) -> list[str]:
    """The page's serious and critical WCAG 2.x A/AA violations found by axe-core."""
    if not browser.evaluate("typeof window.axe !== 'undefined'"):
        browser.send("Runtime.evaluate", session=True, expression=AXE.read_text())
    result = browser.send(
        "Runtime.evaluate",
        session=True,
        expression=(
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.map(n => n.target.join(' '))})))"
        ),
        awaitPromise=True,
        returnByValue=True,
    )
    violations = result["result"]["value"]
    return [
        f"{v['id']} ({v['impact']}): {v['nodes']}" for v in violations if v["impact"] in SERIOUS
    ]


def screenshots(browser: Chromium, folder: Path, name: str, audit: dict[str, list[str]]) -> None:
    audit[name] = axe_problems(browser)
    for width_name, (width, height, mobile) in WIDTHS.items():
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=mobile,
        )
        browser.screenshot(folder / f"{name}-{width_name}.png")
    browser.send("Emulation.clearDeviceMetricsOverride", session=True)


def wait_for(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        time.sleep(0.25)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_patient_and_a_caregiver_use_the_pages_in_two_browsers(
    live_server, chromium, start_worker, shared_cache, tmp_path
):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: npm install --prefix var/node axe-core ({AXE})")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    audit: dict[str, list[str]] = {}
    thandi = UserFactory(username="thandi", first_name="Thandi", last_name="Nkosi")
    UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")
    start_worker(REDIS_URL=shared_cache, SITE_BASE_URL=live_server.url)
    base = live_server.url

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
    chromium.evaluate(
        "document.querySelector('#id_slot').value = 'custom';"
        f"document.querySelector('#id_custom_time').value = '{dose_time:%H:%M}';"
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

        # A dose Thandi did not take becomes missed; Naledi sees it on her page.
        earlier = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(hours=3)
        Dose.objects.create(schedule=schedule, due_at=earlier)
        assert mark_missed(datetime.datetime.now(tz=datetime.UTC)) == 1
        naledi.open(naledi.url)
        assert naledi.evaluate("document.querySelectorAll('.missed-dose').length") == 1
        # Medication details were not allowed on this link: no medicine name.
        assert "Amlodipine" not in naledi.text("main")
        screenshots(naledi, shots, "caring-en", audit)
    finally:
        naledi.close()

    # The same pages in Afrikaans.
    chromium.click("button[name=language][value=af]")
    assert chromium.evaluate("document.documentElement.lang") == "af"
    for name, path in [
        ("today", "/me/"),
        ("add-medicine", "/me/medicines/add/"),
        ("medicine", f"/me/medicines/{schedule.supply_id}/"),
        ("caregivers", "/me/caregivers/"),
    ]:
        chromium.open(f"{base}{path}")
        screenshots(chromium, shots, f"{name}-af", audit)
    assert chromium.text("h1") == "Versorgers"

    (tmp_path / "timings.json").write_text(json.dumps({"badge_seconds": badge_seconds}))
    assert len(list(shots.glob("*.png"))) == 2 * 11
    assert len(audit) == 11
    assert {page: problems for page, problems in audit.items() if problems} == {}
