"""Who looks after a patient: invitations by email or by SMS to a mobile number, accepting
one, the patient's settings per caregiver, revoking. Every change writes a
``CaregiverLinkChange`` (who, when, with which settings) and an entry in the patient's
audit trail (who, when, from which address), whichever page or endpoint made it."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medications.models import CaregiverLink
from privacy.models import AuditAction
from privacy.services import audit

from . import invitation_sms
from .models import CaregiverInvitation, CaregiverLinkChange, InvitationSMS

if TYPE_CHECKING:
    from accounts.models import User

INVITATION_LIFETIME = datetime.timedelta(days=7)
MAX_ESCALATION_DELAY_MINUTES = 24 * 60
# Each invitation by phone texts a number the patient typed, at the clinic's cost and to
# someone who asked for nothing: a few a day is plenty for a family.
PHONE_INVITATIONS_PER_DAY = 5
Action = CaregiverLinkChange.Action
AUDIT_ACTION = {
    Action.INVITED: AuditAction.CREATE,
    Action.ACCEPTED: AuditAction.CREATE,
    Action.CHANGED: AuditAction.CHANGE,
    Action.REVOKED: AuditAction.DELETE,
    Action.INVITATION_CANCELLED: AuditAction.DELETE,
}


class InvitationRefused(ValueError):
    """The invitation cannot be accepted; the message is for the person, translated."""


class PhoneNotVerified(InvitationRefused):
    """The invitation went to a mobile number the person signed in has not (yet) proved is
    theirs: they may verify it and come back, so the invitation stays open."""


class TooManyInvitations(ValueError):
    """The patient has sent their day's invitations by phone (translated message)."""


@dataclass(frozen=True)
class LinkSettings:
    can_see_medication_details: bool
    escalation_delay_minutes: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(
    action: str,
    *,
    patient: User,
    by: User,
    chosen: LinkSettings,
    caregiver: User | None = None,
    link: CaregiverLink | None = None,
    invitation: CaregiverInvitation | None = None,
) -> None:
    CaregiverLinkChange.objects.create(
        patient=patient,
        caregiver=caregiver,
        link=link,
        invitation=invitation,
        action=action,
        changed_by=by,
        can_see_medication_details=chosen.can_see_medication_details,
        escalation_delay_minutes=chosen.escalation_delay_minutes,
    )
    audit.record(
        subject_id=patient.pk,
        actor=by,
        action=AUDIT_ACTION[Action(action)],
        resource="caregiver_invitations" if link is None else "caregiver_links",
        object_id=link.pk if link else invitation.pk if invitation else "",
        what=f"caregiver link {action}",
    )


def invite(
    patient: User, email: str, chosen: LinkSettings, *, site_url: str
) -> CaregiverInvitation:
    """Write the invitation and email its one-time link (in the patient's language, which
    the invitation speaks in their name). The mail goes out once the row is committed; if
    it cannot be sent the error propagates and nothing stays written."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        invitation = CaregiverInvitation.objects.create(
            patient=patient,
            email=email,
            token_hash=_hash(token),
            can_see_medication_details=chosen.can_see_medication_details,
            escalation_delay_minutes=chosen.escalation_delay_minutes,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        _record(Action.INVITED, patient=patient, by=patient, chosen=chosen, invitation=invitation)
        with translation.override(patient.preferred_language):
            context = {
                "patient": patient.get_full_name() or patient.username,
                "url": site_url.rstrip("/") + reverse("patients:accept", args=[token]),
                "days": INVITATION_LIFETIME.days,
            }
            subject = _("%(patient)s asks you to be their caregiver on MedGuard SA") % context
            body = render_to_string("patients/email/invitation.txt", context)
        # Inside the transaction: a mail server that refuses it undoes the invitation.
        send_mail(subject, body, None, [email])
    return invitation


def invite_by_phone(patient: User, phone: object, chosen: LinkSettings) -> CaregiverInvitation:
    """Write the invitation to a mobile number (E.164) and, once committed, publish its SMS
    to the workers (``invitation_sms``). ``TooManyInvitations`` past the day's allowance."""
    now = timezone.now()
    link_secret = secrets.token_urlsafe(24)
    with transaction.atomic():
        sent_today = (
            CaregiverInvitation.objects.filter(
                patient=patient, created_at__gt=now - datetime.timedelta(days=1)
            )
            .exclude(phone="")
            .count()
        )
        if sent_today >= PHONE_INVITATIONS_PER_DAY:
            raise TooManyInvitations(
                _("You can invite %(count)d people by phone a day: try again tomorrow.")
                % {"count": PHONE_INVITATIONS_PER_DAY}
            )
        invitation = CaregiverInvitation.objects.create(
            patient=patient,
            phone=phone,
            link_secret=link_secret,
            token_hash=_hash(invitation_sms.sms_token(link_secret)),
            can_see_medication_details=chosen.can_see_medication_details,
            escalation_delay_minutes=chosen.escalation_delay_minutes,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
            sms_status=InvitationSMS.PENDING,
            sms_not_before=now,
        )
        _record(Action.INVITED, patient=patient, by=patient, chosen=chosen, invitation=invitation)
        transaction.on_commit(lambda: invitation_sms.publish([invitation.pk]))
    return invitation


def open_invitation(token: str) -> CaregiverInvitation:
    """The invitation behind a link, if it can still be accepted; ``InvitationRefused``
    (with the reason) otherwise."""
    invitation = (
        CaregiverInvitation.objects.select_related("patient")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None or invitation.cancelled_at is not None:
        raise InvitationRefused(_("This invitation does not exist or was cancelled."))
    if invitation.accepted_at is not None:
        raise InvitationRefused(_("This invitation has already been accepted."))
    if not invitation.is_open():
        raise InvitationRefused(_("This invitation has expired: ask for a new one."))
    return invitation


def accept(token: str, caregiver: User) -> CaregiverLink:
    """Accept the invitation as ``caregiver``: their link to the patient becomes active with
    the settings the patient chose (a revoked link is switched back on)."""
    with transaction.atomic():
        invitation = open_invitation(token)
        if invitation.patient_id == caregiver.pk:
            raise InvitationRefused(_("You cannot be your own caregiver."))
        if invitation.by_sms and not owns_number(caregiver, invitation):
            raise PhoneNotVerified(
                _(
                    "This invitation was sent to a mobile number ending in %(last)s. "
                    "Verify that number on your account to accept it."
                )
                % {"last": str(invitation.phone)[-3:]}
            )
        # The conditional update decides a double submit: only one request accepts.
        if not CaregiverInvitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True
        ).update(accepted_at=timezone.now(), accepted_by=caregiver):
            raise InvitationRefused(_("This invitation has already been accepted."))
        link, _created = CaregiverLink.objects.update_or_create(
            patient=invitation.patient,
            caregiver=caregiver,
            defaults={
                "active": True,
                "can_see_medication_details": invitation.can_see_medication_details,
                "escalation_delay_minutes": invitation.escalation_delay_minutes,
            },
        )
        _record(
            Action.ACCEPTED,
            patient=invitation.patient,
            by=caregiver,
            caregiver=caregiver,
            link=link,
            invitation=invitation,
            chosen=LinkSettings(link.can_see_medication_details, link.escalation_delay_minutes),
        )
    return link


def owns_number(person: User, invitation: CaregiverInvitation) -> bool:
    """Whether ``person`` has proved the invitation's number is theirs: the link in the SMS
    may be forwarded; only the number's owner accepts."""
    return bool(person.phone_verified) and str(person.phone) == str(invitation.phone)


def patient_link(patient: User, link_id: int) -> CaregiverLink:
    """The patient's own active link; anyone else's raises ``CaregiverLink.DoesNotExist``."""
    return CaregiverLink.objects.select_related("caregiver").get(
        pk=link_id, patient=patient, active=True
    )


def change(patient: User, link_id: int, chosen: LinkSettings) -> CaregiverLink:
    with transaction.atomic():
        link = patient_link(patient, link_id)
        CaregiverLink.objects.filter(pk=link.pk).update(
            can_see_medication_details=chosen.can_see_medication_details,
            escalation_delay_minutes=chosen.escalation_delay_minutes,
        )
        _record(
            Action.CHANGED,
            patient=patient,
            by=patient,
            caregiver=link.caregiver,
            link=link,
            chosen=chosen,
        )
    link.refresh_from_db()
    return link


def revoke(patient: User, link_id: int) -> CaregiverLink:
    """End the link now: the caregiver no longer sees the patient nor hears of missed
    doses. The row stays (inactive) with its history."""
    with transaction.atomic():
        link = patient_link(patient, link_id)
        CaregiverLink.objects.filter(pk=link.pk).update(active=False)
        _record(
            Action.REVOKED,
            patient=patient,
            by=patient,
            caregiver=link.caregiver,
            link=link,
            chosen=LinkSettings(link.can_see_medication_details, link.escalation_delay_minutes),
        )
    return link


def cancel_invitation(patient: User, invitation_id: int) -> None:
    with transaction.atomic():
        invitation = CaregiverInvitation.objects.get(
            pk=invitation_id, patient=patient, accepted_at__isnull=True, cancelled_at__isnull=True
        )
        CaregiverInvitation.objects.filter(pk=invitation.pk).update(cancelled_at=timezone.now())
        _record(
            Action.INVITATION_CANCELLED,
            patient=patient,
            by=patient,
            invitation=invitation,
            chosen=LinkSettings(
                invitation.can_see_medication_details, invitation.escalation_delay_minutes
            ),
        )
