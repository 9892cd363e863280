"""Withdrawn consent stops a message that is already queued: real Celery worker processes,
the configured broker and database, and the file SMS transport."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from notifications.models import Delivery, DeliveryStatus, UserNotificationPreferences
from notifications.services import NotificationService
from privacy.models import ConsentMethod, Purpose
from privacy.services.consent import record_consent
from privacy.wording import current_version

pytestmark = pytest.mark.worker


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def sms_files_to(number: str) -> list[Path]:
    folder = Path(settings.NOTIFICATION_FILE_TRANSPORT_DIR) / "sms"
    if not folder.exists():
        return []
    return [path for path in folder.glob("*.json") if json.loads(path.read_text())["to"] == number]


@pytest.fixture(autouse=True)
def _no_earlier_sms_to_the_patient(patient) -> None:
    """The file transport's folder outlives a test run; an earlier run's SMS must not count."""
    for path in sms_files_to(str(patient.phone)):
        path.unlink()


def sms_delivery(user) -> Delivery:
    return Delivery.objects.get(recipient__user=user, channel="sms")


def opt_in_to_sms(user) -> None:
    record_consent(
        user,
        purpose=Purpose.SMS_REMINDERS,
        granted=True,
        method=ConsentMethod.WEB,
        wording_version=current_version(Purpose.SMS_REMINDERS),
    )


def test_withdrawing_sms_consent_stops_an_sms_already_queued(start_worker, patient) -> None:
    opt_in_to_sms(patient)
    # Queued with no worker running: the task message waits in the broker.
    NotificationService.send_medication_reminder(
        user=patient, medication_name="Metformin", dosage="500mg", channels=["sms", "in_app"]
    )
    assert sms_delivery(patient).status == DeliveryStatus.PENDING

    record_consent(patient, purpose=Purpose.SMS_REMINDERS, granted=False, method=ConsentMethod.API)
    start_worker()

    wait_until(
        lambda: Delivery.objects.get(recipient__user=patient, channel="in_app").status == "sent",
        what="the worker to finish the batch",
    )
    assert sms_delivery(patient).status == DeliveryStatus.CANCELLED
    assert sms_files_to(str(patient.phone)) == []


def test_the_worker_rereads_consent_when_it_claims_an_sms(start_worker, patient) -> None:
    """Consent changed between the send's decision and the claim (here, written straight to
    the row as a concurrent withdrawal's commit would land): the policy skips it."""
    opt_in_to_sms(patient)
    NotificationService.send_medication_reminder(
        user=patient, medication_name="Metformin", dosage="500mg", channels=["sms"]
    )
    UserNotificationPreferences.objects.filter(user=patient).update(sms_reminders_consent=False)
    start_worker()

    wait_until(
        lambda: sms_delivery(patient).status != DeliveryStatus.PENDING, what="the SMS decided"
    )
    delivery = sms_delivery(patient)
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SKIPPED, "no_consent")
    assert sms_files_to(str(patient.phone)) == []


def test_an_sms_with_consent_goes_out(start_worker, patient) -> None:
    """The control: the same path with consent given sends the SMS."""
    opt_in_to_sms(patient)
    NotificationService.send_medication_reminder(
        user=patient, medication_name="Metformin", dosage="500mg", channels=["sms"]
    )
    start_worker()

    wait_until(lambda: sms_delivery(patient).status == DeliveryStatus.SENT, what="the SMS sent")
    assert len(sms_files_to(str(patient.phone))) == 1
