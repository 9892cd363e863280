"""A caregiver invited by mobile number, in two headless Chromium browsers: the patient types
the number; a real worker texts the link (read from the file SMS transport, the project's
default); the caregiver opens it, signs in by typing, verifies that number with the code
texted to it and accepts. The new pages pass axe-core (serious and critical: none)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from medguard_backend.testing.chromium import Chromium
from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.pages import AXE, PASSWORD, axe_problems, sign_in, wait_for
from medications.models import CaregiverLink
from patients.models import CaregiverInvitation

# Where a worker's file SMS transport writes (settings: NOTIFICATION_FILE_TRANSPORT_DIR).
WORKER_SMS = Path(__file__).resolve().parents[2] / "var" / "outbox" / "sms"


def texts_in(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_caregiver_invited_by_phone_verifies_the_number_and_accepts_in_a_browser(
    live_server, chromium, start_worker, settings, tmp_path
):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: npm install --prefix var/node axe-core ({AXE})")
    # The verification code is texted from the web process (this one): into this folder.
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = tmp_path / "outbox"
    base = live_server.url
    thandi = UserFactory(username="thandi", first_name="Thandi", last_name="Nkosi")
    UserFactory(username="naledi", first_name="Naledi", user_type="caregiver")
    start_worker(SITE_BASE_URL=base)
    audit: dict[str, list[str]] = {}

    sign_in(chromium, base, "thandi")
    chromium.open(f"{base}/me/caregivers/")
    chromium.type_into("#id_phone", "082 123 4567")
    chromium.click("#invite-title + form button")
    assert chromium.text(".messages") == "Invitation on its way by SMS to +27 82 123 4567."
    audit["caregivers-sms-pending"] = axe_problems(chromium)

    # The worker sends it: the text arrives at the file SMS transport, with no medicine.
    invitation = CaregiverInvitation.objects.get(patient=thandi)
    name = f"caregiver-invitation-{invitation.pk}-{invitation.token_hash[:12]}.json"
    sms_file = wait_for(lambda: (WORKER_SMS / name).exists() and WORKER_SMS / name, "the SMS")
    sms = json.loads(sms_file.read_text())
    sms_file.unlink()
    assert sms["to"] == "+27821234567"
    link = re.search(rf"{re.escape(base)}/me/caregivers/accept/[\w-]+/", sms["text"])[0]
    wait_for(
        lambda: CaregiverInvitation.objects.filter(pk=invitation.pk, sms_status="sent").exists(),
        "the SMS recorded as sent",
    )

    naledi = Chromium(tmp_path / "naledi-profile")
    try:
        naledi.send("Network.enable", session=True)
        naledi.open(link)
        naledi.type_into("#id_login", "naledi")
        naledi.type_into("#id_password", PASSWORD)
        naledi.press_enter()
        assert "ending in 567" in naledi.text("main")
        audit["accept-verify-first"] = axe_problems(naledi)

        naledi.click("main a.button-link")
        naledi.type_into("#id_phone", "0821234567")
        naledi.click("main form button[type=submit]")
        started = time.monotonic()
        while not (codes := texts_in(tmp_path / "outbox" / "sms")):
            assert time.monotonic() - started < 10, "no verification code was texted"
            time.sleep(0.1)
        code = re.search(r"\b(\d{6})\b", codes[-1]["text"])[1]
        naledi.type_into("#id_code", code)
        naledi.click("main form button[type=submit]")

        # Back on the invitation, now with the number verified: one tap accepts it.
        assert naledi.url == link
        audit["accept"] = axe_problems(naledi)
        naledi.click("main form button")
        assert naledi.url == f"{base}/me/caring/{thandi.pk}/"
        assert "Times are in Africa/Johannesburg" in naledi.text("main")
    finally:
        naledi.close()

    assert CaregiverLink.objects.filter(patient=thandi, caregiver__username="naledi").exists()
    assert {page: problems for page, problems in audit.items() if problems} == {}
