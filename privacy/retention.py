"""Retention of the records privacy keeps, and of sign-ins: each kind has its period in
settings (``RETENTION_DAYS``), and the weekly cleanup (``notifications.cleanup``) applies
them all and reports what it removed.

Notifications and their deliveries have their own rules in ``notifications.cleanup``.

Caregiver invitations go once they are closed (accepted, cancelled or expired) for longer
than their period, with the delivery reports of their text messages: the invited person's
address or number is a stranger's until they accept, and is needed only while the
invitation can be used or questioned. The record of who invited, accepted, cancelled or
revoked and when (``patients.CaregiverLinkChange``) is the audit trail and stays: it loses
only its pointer to the invitation.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Exists, OuterRef, Q, QuerySet
from knox.models import AuthToken

from medications.models import Dose
from notifications.models import DeliveryReceipt
from patients.models import CaregiverInvitation
from privacy.models import AuditEntry, ConsentRecord, ErasureRecord


def _older_than(days: int, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def closed_invitations(before: datetime.datetime) -> QuerySet[CaregiverInvitation]:
    """Invitations accepted, cancelled or expired before ``before`` (an open one never)."""
    return CaregiverInvitation.objects.filter(
        Q(accepted_at__lt=before)
        | Q(accepted_at__isnull=True, cancelled_at__lt=before)
        | Q(accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__lt=before)
    )


def _invitation_receipts(before: datetime.datetime) -> QuerySet[DeliveryReceipt]:
    """The stored delivery reports of those invitations' texts (reports of a text belong to
    no delivery: ``notifications.receipts.invitations``)."""
    texted = closed_invitations(before).filter(
        sms_provider=OuterRef("provider"), sms_provider_message_id=OuterRef("provider_message_id")
    )
    return DeliveryReceipt.objects.filter(delivery__isnull=True).filter(Exists(texted))


PagedDelete = Callable[[Callable[[], QuerySet[Any]]], Iterable[dict[str, int]]]


def _expiring(now: datetime.datetime) -> dict[str, Callable[[], QuerySet[Any]]]:
    """Report name -> what may be deleted at ``now`` (rows with integer keys, deleted in
    pages of ids)."""
    days = settings.RETENTION_DAYS
    return {
        "audit_entries_deleted": lambda: AuditEntry.objects.filter(
            at__lt=_older_than(days["audit_entries"], now)
        ),
        # A person's own consent history lives as long as their account (it is the proof
        # of what they agreed to); once erased, the anonymous record only as long as this.
        "consent_records_deleted": lambda: ConsentRecord.objects.filter(
            user__isnull=True, recorded_at__lt=_older_than(days["erased_consent_records"], now)
        ),
        "erasure_records_deleted": lambda: ErasureRecord.objects.filter(
            erased_at__lt=_older_than(days["erasure_records"], now)
        ),
        "doses_deleted": lambda: Dose.objects.filter(due_at__lt=_older_than(days["doses"], now)),
        # The reports first: they are found through the invitations' message ids.
        "invitation_receipts_deleted": lambda: _invitation_receipts(
            _older_than(days["caregiver_invitations"], now)
        ),
        "caregiver_invitations_deleted": lambda: closed_invitations(
            _older_than(days["caregiver_invitations"], now)
        ),
    }


def purge_expired(now: datetime.datetime, delete_in_pages: PagedDelete) -> dict[str, int]:
    """Delete every kind of record past its period; returns how many of each went."""
    removed = {
        name: sum(sum(page.values()) for page in delete_in_pages(queryset))
        for name, queryset in _expiring(now).items()
    }
    # Keyed by strings (a digest, a session key), and few: one statement each.
    removed["expired_tokens_deleted"] = AuthToken.objects.filter(expiry__lt=now).delete()[0]
    removed["expired_sessions_deleted"] = Session.objects.filter(expire_date__lt=now).delete()[0]
    return removed
