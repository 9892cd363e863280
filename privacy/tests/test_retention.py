"""Each kind of record goes after its own retention period, through the weekly cleanup,
which reports what it removed."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from knox.models import AuthToken

from medguard_backend.testing.factories import api_token
from medications.models import Dose
from medications.tests.factories import DoseFactory
from notifications.cleanup import cleanup_old_notifications
from privacy.models import AuditAction, AuditEntry, ConsentMethod, ConsentRecord, ErasureRecord
from privacy.services import audit
from privacy.services.consent import record_consent

NOW = datetime.datetime(2026, 6, 1, 0, 0, tzinfo=datetime.UTC)


def days_ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


@pytest.fixture
def periods(settings):
    settings.RETENTION_DAYS = {
        "audit_entries": 365,
        "erased_consent_records": 365,
        "erasure_records": 1000,
        "doses": 700,
        "caregiver_invitations": 90,  # patients/tests/test_invitation_retention.py
    }


def test_the_cleanup_deletes_each_kind_after_its_own_period_and_reports_it(
    periods, patient
) -> None:
    for age in (366, 364):
        with time_machine.travel(days_ago(age), tick=False):
            audit.record(
                subject_id=patient.pk, actor=None, action=AuditAction.READ, resource="doses"
            )
            record_consent(
                patient, purpose="email_reminders", granted=False, method=ConsentMethod.WEB
            )
            ErasureRecord.objects.create(method="self", erased_at=days_ago(age + 635))
    # Erased people's consent history: anonymous rows.
    ConsentRecord.objects.filter(recorded_at__lt=days_ago(365)).update(user=None)
    old_dose = DoseFactory(schedule__supply__patient=patient, due_at=days_ago(701))
    recent_dose = DoseFactory(schedule=old_dose.schedule, due_at=days_ago(699))
    with time_machine.travel(days_ago(40), tick=False):
        api_token(patient)  # expired after 30 days
    api_token(patient)
    with time_machine.travel(days_ago(2), tick=False):
        expired_session = SessionStore()
        expired_session.set_expiry(60)
        expired_session.save()

    summary = cleanup_old_notifications(NOW)

    assert {
        key: value
        for key, value in summary.items()
        if not key.startswith(("recip", "deliv", "attempt", "notif"))
    } == {
        "audit_entries_deleted": 2,  # a read, and the consent change's own entry
        "consent_records_deleted": 1,
        "erasure_records_deleted": 1,
        "doses_deleted": 1,
        "invitation_receipts_deleted": 0,
        "caregiver_invitations_deleted": 0,
        "expired_tokens_deleted": 1,
        "expired_sessions_deleted": 1,
    }
    assert set(AuditEntry.objects.values_list("at", flat=True)) == {days_ago(364)}
    # The living person's consent history stays however old it is.
    assert ConsentRecord.objects.filter(user=patient).count() == 1
    assert list(Dose.objects.values_list("pk", flat=True)) == [recent_dose.pk]
    assert AuthToken.objects.count() == 1
    assert not Session.objects.exists()
