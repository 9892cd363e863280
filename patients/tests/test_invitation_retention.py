"""Caregiver invitations go a set time after they closed (accepted, cancelled or expired),
with the stored delivery reports of their texts, through the weekly cleanup, which reports
what it removed; open invitations stay, and so does the audit trail of who invited,
accepted and cancelled, and when."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail

from medguard_backend.testing.factories import UserFactory
from notifications.cleanup import cleanup_old_notifications
from notifications.models import DeliveryReceipt
from patients.caregivers import LinkSettings, accept, cancel_invitation, invite, invite_by_phone
from patients.models import CaregiverInvitation, CaregiverLinkChange

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 2, 0, tzinfo=datetime.UTC)
CHOSEN = LinkSettings(can_see_medication_details=False, escalation_delay_minutes=30)


def days_ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


@pytest.fixture(autouse=True)
def period(settings):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "caregiver_invitations": 90}
    settings.SITE_BASE_URL = "http://testserver"


def by_email(patient, email: str, *, on: datetime.datetime) -> CaregiverInvitation:
    with time_machine.travel(on, tick=False):
        return invite(patient, email, CHOSEN, site_url="http://testserver")


def texted(patient, number: str, *, on: datetime.datetime, message_id: str):
    """An invitation by phone, its text taken by Clickatell as ``message_id``, whose
    delivery report came in (stored with no delivery, as the webhook stores it)."""
    with time_machine.travel(on, tick=False):
        invitation = invite_by_phone(patient, number, CHOSEN)
    CaregiverInvitation.objects.filter(pk=invitation.pk).update(
        sms_status="delivered", sms_provider="clickatell", sms_provider_message_id=message_id
    )
    DeliveryReceipt.objects.create(
        provider="clickatell", provider_message_id=message_id, provider_status="4"
    )
    return invitation


def accepted_by(email: str, *, on: datetime.datetime) -> None:
    """The invitee accepts through the link in the invitation's email (the last one sent)."""
    token = re.search(r"/me/caregivers/accept/([\w-]+)/", mail.outbox[-1].body)[1]
    with time_machine.travel(on, tick=False):
        accept(token, UserFactory(email=email, user_type="caregiver"))


def test_invitations_closed_longer_than_the_period_go_with_their_reports_and_the_audit_stays(
    patient,
):
    accepted_old = by_email(patient, "old@example.org", on=days_ago(100))
    accepted_by("old@example.org", on=days_ago(99))
    accepted_recent = by_email(patient, "recent@example.org", on=days_ago(95))
    accepted_by("recent@example.org", on=days_ago(89))
    cancelled_old = texted(patient, "+27821110001", on=days_ago(100), message_id="ct-old")
    with time_machine.travel(days_ago(98), tick=False):
        cancel_invitation(patient, cancelled_old.pk)
    expired_old = texted(patient, "+27821110002", on=days_ago(98), message_id="ct-expired")
    expired_recent = by_email(patient, "late@example.org", on=days_ago(96))  # expired 89 days ago
    still_open = texted(patient, "+27821110003", on=days_ago(2), message_id="ct-open")
    # A report for a message nobody knows (no delivery, no invitation) is not this rule's.
    DeliveryReceipt.objects.create(
        provider="clickatell", provider_message_id="ct-x", provider_status="4"
    )
    audit_before = list(
        CaregiverLinkChange.objects.order_by("pk").values_list("pk", "action", "changed_at")
    )

    summary = cleanup_old_notifications(NOW)

    assert (summary["caregiver_invitations_deleted"], summary["invitation_receipts_deleted"]) == (
        3,
        2,
    )
    gone = [accepted_old.pk, cancelled_old.pk, expired_old.pk]
    assert not CaregiverInvitation.objects.filter(pk__in=gone).exists()
    assert set(CaregiverInvitation.objects.values_list("pk", flat=True)) == {
        accepted_recent.pk,
        expired_recent.pk,
        still_open.pk,
    }
    assert set(DeliveryReceipt.objects.values_list("provider_message_id", flat=True)) == {
        "ct-open",
        "ct-x",
    }
    # Who invited, accepted and cancelled, and when: every row kept, only unlinked.
    assert (
        list(CaregiverLinkChange.objects.order_by("pk").values_list("pk", "action", "changed_at"))
        == audit_before
    )
    assert len(audit_before) == 9  # six invited, two accepted, one cancelled
    # Those of the three invitations deleted: invited twice, accepted, cancelled, invited.
    assert CaregiverLinkChange.objects.filter(invitation__isnull=True).count() == 5
