"""No personal data in the logs or Celery task arguments the whole suite produced.

Runs after every other test (marker ``leak_scan``; ``medguard_backend/testing/leak_watch.py``
collects for the whole session), and first drives a send of its own with a real phone
number, address and medicine name through the in-process pipeline, so that it has
something to scan even when run alone.
"""

from __future__ import annotations

import pytest

from medguard_backend.testing.factories import api_token
from medications.tests.factories import SupplyFactory
from notifications.models import Delivery
from notifications.services import NotificationService
from notifications.tasks import send_deliveries
from privacy.models import ConsentMethod, Purpose
from privacy.services.consent import record_consent
from privacy.wording import current_version

pytestmark = pytest.mark.leak_scan


@pytest.mark.django_db(transaction=True)
def test_no_phone_email_token_or_medicine_name_in_logs_or_task_arguments(
    patient, leak_watch, api_client_for
) -> None:
    SupplyFactory(patient=patient, medicine__name="Zyvoxolin")
    record_consent(
        patient,
        purpose=Purpose.SMS_REMINDERS,
        granted=True,
        method=ConsentMethod.API,
        wording_version=current_version(Purpose.SMS_REMINDERS),
    )
    api_token(patient)
    published = len(leak_watch.task_arguments)
    NotificationService.send_medication_reminder(
        user=patient, medication_name="Zyvoxolin", dosage="500mg", channels=["sms", "email"]
    )
    send_deliveries(list(Delivery.objects.values_list("pk", flat=True)))
    api_client_for(patient).get("/api/me/export/")

    assert len(leak_watch.task_arguments) > published  # the send was published and watched
    assert "Zyvoxolin" in leak_watch.medicine_names
    assert leak_watch.leaks() == []
