"""The clinic pages in headless Chromium, as a staff member uses them: sign in by typing,
write a broadcast, see how many people it reaches before sending, send it, and see its
deliveries in the delivery report and in the dashboard's counts (a real worker delivers
them and recounts the dashboard). Every page passes axe-core (serious and critical: none);
screenshots in English and Afrikaans, phone and desktop width, are test artefacts
(``var/artefacts/screenshots/<test>/``)."""

from __future__ import annotations

import re

import pytest

from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.pages import AXE, artefact_dir, screenshots, sign_in, wait_for
from notifications.models import Delivery, Notification


def in_app_row(browser, table: str) -> dict[str, str]:
    """The in-app row of ``table`` as the page shows it: column heading -> cell."""
    return browser.evaluate(
        f"(() => {{ const table = document.querySelector({table!r});"
        " const heads = Array.from(table.querySelectorAll('thead th')).slice(1)"
        ".map(th => th.textContent.trim());"
        " const row = Array.from(table.querySelectorAll('tbody th'))"
        ".find(th => th.textContent.trim() === 'in_app');"
        " const cells = row ? Array.from(row.parentElement.querySelectorAll('td'))"
        ".map(td => td.textContent.trim()) : [];"
        " return Object.fromEntries(heads.map((h, i) => [h, cells[i] || '']));"
        " })()"
    )


def figures(browser) -> dict[str, str]:
    """The dashboard's total of deliveries and its in-app row (status -> count)."""
    return {
        "total": browser.text("#deliveries-title ~ p .stat"),
        **in_app_row(browser, "#deliveries-title ~ table"),
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_staff_broadcast_and_see_it_in_the_report_and_the_dashboard_counts(
    live_server, chromium, start_worker, request
):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: npm install --prefix var/node axe-core ({AXE})")
    shots = artefact_dir(request.node.name)
    audit: dict[str, list[str]] = {}
    UserFactory(username="sister", first_name="Sister", last_name="Dlamini", user_type="staff")
    thandi = UserFactory(username="thandi", user_type="patient")
    johan = UserFactory(username="johan", user_type="patient", preferred_language="af")
    UserFactory(username="naledi", user_type="caregiver")
    start_worker(SITE_BASE_URL=live_server.url)
    base = live_server.url

    sign_in(chromium, base, "sister", next_path="/staff/")
    assert chromium.url == f"{base}/staff/"
    assert chromium.text("h1") == "Clinic dashboard"
    before = figures(chromium)
    assert before["total"] == "0"
    screenshots(chromium, shots, "dashboard-empty-en", audit)

    # Write the broadcast; first the count of who will get it, then the send.
    chromium.click("nav.subnav a[href='/staff/broadcast/']")
    screenshots(chromium, shots, "broadcast-en", audit)
    chromium.type_into("#id_title", "Clinic closed on Friday")
    chromium.type_into("#id_content", "The clinic is closed on Friday for stocktaking.")
    chromium.tick("input[name=target_user_types][value=patient]")
    chromium.tick("input[name=channels][value=in_app]")
    chromium.click("main form button[type=submit]")
    assert chromium.text("p[role=status]") == "2 people will receive it."
    assert not Notification.objects.exists()
    screenshots(chromium, shots, "broadcast-count-en", audit)
    chromium.click("button[name=confirm]")
    match = re.fullmatch(rf"{re.escape(base)}/staff/notifications/(\d+)/", chromium.url)
    assert match, chromium.url
    notification = Notification.objects.get(pk=int(match[1]))
    assert notification.title == "Clinic closed on Friday"
    assert set(Delivery.objects.values_list("recipient__user", "channel")) == {
        (thandi.pk, "in_app"),
        (johan.pk, "in_app"),
    }

    # The worker delivers the two in-app copies; the report counts them as sent.
    def report_says_sent() -> bool:
        chromium.open(f"{base}/staff/notifications/{notification.pk}/")
        return in_app_row(chromium, "main table.figures").get("sent") == "2"

    wait_for(report_says_sent, "both deliveries sent", timeout=60)
    screenshots(chromium, shots, "report-en", audit)

    # The broadcast's commit asked the worker to recount the dashboard: its counts show the
    # two in-app deliveries (in the state they had when counted: the periodic recount, every
    # five minutes, moves them on).
    def dashboard_counts() -> dict[str, str] | None:
        chromium.open(f"{base}/staff/")
        counted = figures(chromium)
        return counted if counted["total"] == "2" else None

    counted = wait_for(dashboard_counts, "the dashboard counting the broadcast", timeout=60)
    assert sum(int(counted[status] or 0) for status in counted if status != "total") == 2, counted
    screenshots(chromium, shots, "dashboard-en", audit)

    # The same pages in Afrikaans.
    chromium.click("button[name=language][value=af]")
    assert chromium.evaluate("document.documentElement.lang") == "af"
    for name, path in [
        ("dashboard", "/staff/"),
        ("broadcast", "/staff/broadcast/"),
        ("report", f"/staff/notifications/{notification.pk}/"),
    ]:
        chromium.open(f"{base}{path}")
        screenshots(chromium, shots, f"{name}-af", audit)
    chromium.open(f"{base}/staff/")
    assert chromium.text("h1") != "Clinic dashboard"

    assert len(list(shots.glob("*.png"))) == 2 * 8
    assert {page: problems for page, problems in audit.items() if problems} == {}
