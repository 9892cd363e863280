"""Giving and withdrawing consent, per purpose.

Withdrawing is as easy as giving (one call, no wording to confirm) and takes effect before
the next send twice over: the person's current answer is on their notification preferences,
which the worker re-reads when it claims a delivery (``decide`` skips it), and the deliveries
already waiting on that channel are cancelled here, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationType,
    UserNotificationPreferences,
)
from privacy.models import AuditAction, ConsentMethod, ConsentRecord, Purpose
from privacy.services import audit
from privacy.wording import current_version, wording

if TYPE_CHECKING:
    from accounts.models import User

CONSENT_FIELD: dict[str, str] = {
    Purpose.EMAIL_REMINDERS: "email_reminders_consent",
    Purpose.PUSH_REMINDERS: "push_reminders_consent",
    Purpose.SMS_REMINDERS: "sms_reminders_consent",
    Purpose.CAREGIVER_SHARING: "caregiver_sharing_consent",
    Purpose.STAFF_BROADCASTS: "staff_broadcasts_consent",
}
CHANNEL_OF_PURPOSE: dict[str, str] = {
    Purpose.EMAIL_REMINDERS: Channel.EMAIL,
    Purpose.PUSH_REMINDERS: Channel.PUSH,
    Purpose.SMS_REMINDERS: Channel.SMS,
}
CHANNEL_SWITCH: dict[str, str] = {
    Channel.EMAIL: "email_notifications_enabled",
    Channel.PUSH: "push_notifications_enabled",
    Channel.SMS: "sms_notifications_enabled",
}
WAITING = (DeliveryStatus.PENDING,)


@dataclass(frozen=True)
class ConsentState:
    """A person's current answer for one purpose, and the wording they would be shown."""

    purpose: str
    granted: bool
    wording: str
    wording_version: str
    recorded_at: datetime | None  # None: never asked; the default applies
    method: str
    wording_version_agreed: str


def _field_errors(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def current_consents(user: User) -> list[ConsentState]:
    prefs = (
        UserNotificationPreferences.objects.filter(user=user).first()
        or UserNotificationPreferences()
    )
    latest: dict[str, ConsentRecord] = {}
    for found in ConsentRecord.objects.filter(user=user).order_by("recorded_at", "pk"):
        latest[found.purpose] = found
    states = []
    for purpose in Purpose:
        record = latest.get(purpose)
        states.append(
            ConsentState(
                purpose=purpose.value,
                granted=bool(getattr(prefs, CONSENT_FIELD[purpose])),
                wording=wording(purpose),
                wording_version=current_version(purpose),
                recorded_at=record.recorded_at if record else None,
                method=record.method if record else "",
                wording_version_agreed=record.wording_version if record and record.granted else "",
            )
        )
    return states


def record_consent(
    user: User,
    *,
    purpose: str,
    granted: bool,
    method: str,
    wording_version: str = "",
    actor: User | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> ConsentRecord:
    """Record the person's answer and apply it. Giving needs the wording version the person
    was shown (the current one); withdrawing needs nothing. Staff acting on the person's
    behalf (``ConsentMethod.ADMIN``) must give a reason. Raises ``ValidationError`` naming the
    field otherwise, with nothing written."""
    if purpose not in Purpose.values:
        raise _field_errors("purpose", _("Unknown purpose “%(value)s”.") % {"value": purpose})
    if method not in ConsentMethod.values:
        raise _field_errors("method", _("Unknown method “%(value)s”.") % {"value": method})
    current = current_version(purpose)
    if granted and wording_version != current:
        raise _field_errors(
            "wording_version",
            _("The wording has changed: show version %(current)s and ask again.")
            % {"current": current},
        )
    if method == ConsentMethod.ADMIN and not reason.strip():
        raise _field_errors("reason", _("Say why staff record this on the person's behalf."))

    with transaction.atomic():
        prefs, _created = UserNotificationPreferences.objects.select_for_update().get_or_create(
            user=user
        )
        setattr(prefs, CONSENT_FIELD[purpose], granted)
        channel = CHANNEL_OF_PURPOSE.get(purpose)
        if channel is not None and granted:
            # Consenting to SMS reminders is asking for them: the channel comes on too.
            setattr(prefs, CHANNEL_SWITCH[channel], True)
        prefs.save()
        record = ConsentRecord.objects.create(
            user=user,
            purpose=purpose,
            granted=granted,
            method=method,
            wording_version=wording_version if granted else current,
            reason=reason.strip(),
            recorded_by=actor if actor is not None and actor.pk != user.pk else None,
            ip_address=ip_address,
        )
        if not granted:
            _apply_withdrawal(user, purpose)
        audit.record(
            subject_id=user.pk,
            actor=actor or user,
            action=AuditAction.CHANGE,
            resource="consent",
            object_id=record.pk,
            what=f"{purpose} {'granted' if granted else 'withdrawn'} ({method})",
            ip_address=ip_address,
        )
    return record


def _apply_withdrawal(user: User, purpose: str) -> int:
    """Stop what the withdrawn consent covered; returns the deliveries cancelled."""
    waiting = Delivery.objects.filter(recipient__user=user, status__in=WAITING)
    channel = CHANNEL_OF_PURPOSE.get(purpose)
    if channel is not None:
        return waiting.filter(channel=channel).update(
            status=DeliveryStatus.CANCELLED, last_error="no_consent"
        )
    if purpose == Purpose.STAFF_BROADCASTS:
        return waiting.filter(
            recipient__notification__notification_type=NotificationType.NEWS
        ).update(status=DeliveryStatus.CANCELLED, last_error="no_consent")
    if purpose == Purpose.CAREGIVER_SHARING:
        from medications.models import CaregiverLink

        CaregiverLink.objects.filter(patient=user, active=True).update(active=False)
    return 0


SMS_KEYWORDS: dict[str, bool] = {
    "STOP": False,
    "STOPALL": False,
    "UNSUBSCRIBE": False,
    "START": True,
}


def apply_sms_keyword(user: User, keyword: str) -> ConsentRecord | None:
    """An inbound SMS keyword from the person's own number: STOP withdraws consent to SMS,
    START gives it again (to the current wording, which the reply to START repeats). Any
    other text is not a consent answer: None."""
    answer = SMS_KEYWORDS.get(keyword.strip().upper())
    if answer is None:
        return None
    return record_consent(
        user,
        purpose=Purpose.SMS_REMINDERS,
        granted=answer,
        method=ConsentMethod.SMS_KEYWORD,
        wording_version=current_version(Purpose.SMS_REMINDERS),
    )
