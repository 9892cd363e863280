"""Erasing a person (POPIA s24): their data is deleted, and what must outlive them (consent
history, the audit trail, that an erasure happened) is kept with every link to them cut.

Personal data about the person can sit in other people's rows too: a caregiver's missed-dose
or low-stock notification names the patient and maybe the medicine. Those are found by the
idempotency keys that produced them (they carry the patient's dose and supply ids) and go too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q

from medications.models import CaregiverLink, DoseEscalation, Medicine, Supply
from notifications.models import Delivery, DeliveryStatus, Notification, NotificationRecipient
from patients.models import CaregiverInvitation
from privacy.models import AuditEntry, ConsentRecord, ErasureRecord
from privacy.redaction import redact_contact_details

if TYPE_CHECKING:
    from accounts.models import User

KEY_BATCH = 500
SUPPLY_KEY_PREFIXES = ("low-stock-{}-", "expired-{}-", "expiry-{}-")


def _about_patient(user: User) -> Q:
    """Notifications to others (caregivers) about this patient, by their idempotency keys."""
    about = Q(pk__in=[])
    for supply_id in Supply.objects.filter(patient=user).values_list("pk", flat=True):
        for prefix in SUPPLY_KEY_PREFIXES:
            about |= Q(idempotency_key__startswith=prefix.format(supply_id))
    return about


def _escalation_keys(user: User) -> list[str]:
    return [
        f"missed-{dose_id}-caregiver-{caregiver_id}"
        for dose_id, caregiver_id in DoseEscalation.objects.filter(
            dose__schedule__supply__patient=user
        ).values_list("dose_id", "caregiver_id")
    ]


def erase_person(
    user: User, *, method: str, requested_by: User | None = None, reason: str = ""
) -> ErasureRecord:
    """Erase ``user`` for good; returns the (anonymous) record of the erasure."""
    removed: dict[str, int] = {}
    with transaction.atomic():
        # Stop first: a worker claiming these ids later finds nothing to send.
        removed["deliveries_stopped"] = Delivery.objects.filter(
            recipient__user=user, status__in=(DeliveryStatus.PENDING, DeliveryStatus.SENDING)
        ).update(status=DeliveryStatus.CANCELLED, last_error="erased")

        # Annotated before filtering by recipient, so the count is of all its recipients.
        personal = (
            Notification.objects.annotate(recipient_count=Count("recipients"))
            .filter(recipient_count=1, recipients__user=user)
            .values_list("pk", flat=True)
        )
        removed["notifications"] = (
            Notification.objects.filter(pk__in=list(personal))
            .delete()[1]
            .get("notifications.Notification", 0)
        )
        removed["notifications_about_patient"] = (
            Notification.objects.filter(_about_patient(user))
            .delete()[1]
            .get("notifications.Notification", 0)
        )
        keys = _escalation_keys(user)
        for start in range(0, len(keys), KEY_BATCH):
            removed["notifications_about_patient"] += (
                Notification.objects.filter(idempotency_key__in=keys[start : start + KEY_BATCH])
                .delete()[1]
                .get("notifications.Notification", 0)
            )
        removed["shared_notifications_left"] = (
            NotificationRecipient.objects.filter(user=user)
            .delete()[1]
            .get("notifications.NotificationRecipient", 0)
        )

        medicine_ids = set(
            Supply.objects.filter(patient=user).values_list("medicine_id", flat=True)
        )
        supply_ids = list(Supply.objects.filter(patient=user).values_list("pk", flat=True))
        removed["medicines"] = (
            Supply.objects.filter(patient=user).delete()[1].get("medications.Supply", 0)
        )
        # A catalogue entry only this person used would still name their medicine.
        Medicine.objects.filter(pk__in=medicine_ids, supplies__isnull=True).delete()
        removed["caregiver_links"] = CaregiverLink.objects.filter(
            Q(patient=user) | Q(caregiver=user)
        ).delete()[0]
        removed["invitations_to_them"] = _forget_invitations_to(user)

        # What must outlive the person, kept without them.
        removed["consent_records_kept"] = ConsentRecord.objects.filter(user=user).update(
            user=None, ip_address=None, reason=""
        )
        ConsentRecord.objects.filter(recorded_by=user).update(recorded_by=None)
        removed["audit_entries_kept"] = AuditEntry.objects.filter(subject=user).update(
            subject=None, ip_address=None
        )
        AuditEntry.objects.filter(actor=user).update(actor=None, ip_address=None)
        _forget_admin_history(user, supply_ids)

        record = ErasureRecord.objects.create(
            method=method,
            requested_by=requested_by if requested_by and requested_by.pk != user.pk else None,
            # Staff type the reason: a number or address in it would outlive the person.
            reason=redact_contact_details(reason.strip()),
            removed=removed,
        )
        # The rest (preferences, devices, tokens, sessions' user, sign-in addresses)
        # goes with the user row, by cascade.
        user.delete()
    return record


def _forget_invitations_to(user: User) -> int:
    """Other patients' invitations that this person accepted or that were sent to their
    number or address (the person's own go with the user row, by cascade). Their number and
    address are encrypted without a blind index, so the open invitations are read and
    compared decrypted: an erasure is rare, invitations few."""
    address = user.email.casefold()
    number = str(user.phone) if user.phone else ""
    theirs = [
        pk
        for pk, email, phone in CaregiverInvitation.objects.exclude(patient=user)
        .filter(accepted_by__isnull=True)
        .values_list("pk", "email", "phone")
        .iterator(chunk_size=2000)
        if (address and email and email.casefold() == address) or (number and str(phone) == number)
    ]
    invitations = CaregiverInvitation.objects.filter(Q(accepted_by=user) | Q(pk__in=theirs))
    return invitations.delete()[1].get("patients.CaregiverInvitation", 0)


def _forget_admin_history(user: User, supply_ids: list[int]) -> None:
    """The admin's change history names the objects it touched (a user's full name, a
    medicine): those entries lose their description."""
    user_type = ContentType.objects.get_for_model(get_user_model())
    supply_type = ContentType.objects.get_for_model(Supply)
    LogEntry.objects.filter(
        Q(content_type=user_type, object_id=str(user.pk))
        | Q(content_type=supply_type, object_id__in=[str(pk) for pk in supply_ids])
    ).update(object_repr="(erased)", change_message="")
