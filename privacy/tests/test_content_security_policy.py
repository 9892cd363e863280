"""Every page carries a Content-Security-Policy without 'unsafe-inline', and the pages work
under it: no inline script or style left for the browser to refuse, the stylesheets load."""

from __future__ import annotations

import pytest

from medguard_backend.testing.factories import UserFactory
from notifications.services import NotificationService

PATIENT_PAGES = ["/notifications/", "/notifications/preferences/"]
STAFF_PAGES = [
    "/staff/",
    "/staff/broadcast/",
    "/admin/",
    "/admin/notifications/notification/",
    "/admin/accounts/user/",
]
INLINE = "document.querySelectorAll('style, script:not([src]), [style]').length"


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.fixture
def patient(db):
    patient = UserFactory(username="thandi")
    NotificationService.send_notification_to_user(
        patient,
        NotificationService.create_notification("Refill due", "Friday", "system", "low"),
        ["in_app"],
    )
    return patient


@pytest.fixture
def staff_member(db):
    return UserFactory(username="sipho", is_staff=True, is_superuser=True, user_type="staff")


def test_every_page_has_a_policy_without_unsafe_inline(client, patient, staff_member) -> None:
    pages = [("anonymous", "/admin/login/"), ("anonymous", "/accounts/login/")]
    pages += [(patient, path) for path in PATIENT_PAGES]
    pages += [(staff_member, path) for path in STAFF_PAGES]
    for user, path in pages:
        client.logout()
        if user != "anonymous":
            client.force_login(user)
        response = client.get(path)
        assert response.status_code == 200, path
        policy = policy_of(response)
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert "unsafe-inline" not in response["Content-Security-Policy"], path


@pytest.mark.django_db(transaction=True)
def test_the_pages_need_no_inline_script_or_style_in_a_real_browser(
    live_server,
    client,
    chromium,
    patient,
    staff_member,
) -> None:
    found: dict[str, tuple[int, str]] = {}
    for user, paths in ((patient, PATIENT_PAGES), (staff_member, STAFF_PAGES[:2])):
        client.force_login(user)
        chromium.send("Network.clearBrowserCookies", session=True)
        chromium.send(
            "Network.setCookie",
            session=True,
            name="sessionid",
            value=client.cookies["sessionid"].value,
            url=live_server.url,
        )
        for path in paths:
            chromium.open(f"{live_server.url}{path}")
            header = "getComputedStyle(document.querySelector('header')).backgroundColor"
            found[path] = (chromium.evaluate(INLINE), chromium.evaluate(header))

    # No inline content for the policy to refuse, and the stylesheet (a file) applied.
    assert found == {path: (0, "rgb(11, 93, 122)") for path in [*PATIENT_PAGES, *STAFF_PAGES[:2]]}
