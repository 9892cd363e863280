from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medications.models import CaregiverLink
from privacy.encryption.fields import EncryptedEmailField, EncryptedPhoneNumberField


class InvitationSMS(models.TextChoices):
    """Where the text message of an invitation by phone stands (empty for one by email)."""

    NONE = "", _("Not by SMS")
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    # From the gateway's delivery report (``notifications.receipts.invitations``).
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Could not be sent")


class CaregiverInvitation(models.Model):
    """A patient's invitation to look after them, sent with a one-time link by email or,
    to a mobile number, by SMS. Only a hash of the link's token is kept: the database alone
    cannot accept an invitation. The SMS is written by a worker, which re-derives the token
    from ``link_secret`` and the ``SECRET_KEY`` (a keyed hash), so the token never sits in
    the broker or in clear in the database."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="caregiver_invitations",
        verbose_name=_("patient"),
    )
    # Encrypted at rest, like every phone number and address held outside the user row.
    email = EncryptedEmailField(_("caregiver's email address"), blank=True)
    phone = EncryptedPhoneNumberField(_("caregiver's mobile number"), blank=True, region="ZA")
    token_hash = models.CharField(max_length=64, unique=True)
    # Invitations by SMS only: with SECRET_KEY, what the worker derives the link's token from.
    link_secret = models.CharField(max_length=32, blank=True, default="")
    sms_status = models.CharField(
        _("SMS"), max_length=10, choices=InvitationSMS.choices, blank=True, default=""
    )
    sms_attempts = models.PositiveSmallIntegerField(_("SMS attempts"), default=0)
    sms_not_before = models.DateTimeField(_("SMS not before"), null=True, blank=True)
    sms_claimed_at = models.DateTimeField(_("SMS claimed at"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("SMS sent at"), null=True, blank=True)
    # Why the last attempt failed (the transport's reason) or why the gateway reported the
    # text undelivered: never the number or the text.
    sms_error = models.CharField(_("SMS error"), max_length=200, blank=True, default="")
    # Which gateway took the text and its id for it: how its delivery report finds the row.
    sms_provider = models.CharField(_("SMS gateway"), max_length=20, blank=True, default="")
    sms_provider_message_id = models.CharField(
        _("SMS gateway message id"), max_length=200, blank=True, default=""
    )
    sms_receipt_at = models.DateTimeField(_("SMS delivery report at"), null=True, blank=True)
    can_see_medication_details = models.BooleanField(_("may see medication details"), default=False)
    escalation_delay_minutes = models.PositiveIntegerField(
        _("escalation delay (minutes)"), default=30
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Sent one way: to an email address or to a mobile number, never both or neither.
            models.CheckConstraint(
                condition=models.Q(email="") ^ models.Q(phone=""),
                name="invitation_by_email_or_phone",
            ),
        ]
        indexes = [
            # The SMS sweeper's question: which texts are due.
            models.Index(
                fields=["sms_not_before"],
                condition=models.Q(sms_status="pending"),
                name="invitation_sms_due_idx",
            ),
            # A delivery report's question: which text the gateway means.
            models.Index(
                fields=["sms_provider", "sms_provider_message_id"],
                condition=~models.Q(sms_provider_message_id=""),
                name="invitation_sms_receipt_idx",
            ),
        ]
        verbose_name = _("caregiver invitation")
        verbose_name_plural = _("caregiver invitations")

    def __str__(self) -> str:
        return f"caregiver invitation {self.pk} from patient {self.patient_id}"

    @property
    def by_sms(self) -> bool:
        return bool(self.phone)

    def is_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.cancelled_at is None and now < self.expires_at


class CaregiverLinkChange(models.Model):
    """One change to who looks after a patient: who made it, when, and the link's settings
    after it. Kept when the link is revoked; never edited."""

    class Action(models.TextChoices):
        INVITED = "invited", _("Invited")
        INVITATION_CANCELLED = "cancelled", _("Invitation cancelled")
        ACCEPTED = "accepted", _("Accepted")
        CHANGED = "changed", _("Settings changed")
        REVOKED = "revoked", _("Revoked")

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    caregiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link = models.ForeignKey(
        CaregiverLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    invitation = models.ForeignKey(
        CaregiverInvitation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
    )
    action = models.CharField(_("change"), max_length=10, choices=Action.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    can_see_medication_details = models.BooleanField(default=False)
    escalation_delay_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("caregiver link change")
        verbose_name_plural = _("caregiver link changes")

    def __str__(self) -> str:
        return f"{self.action} by {self.changed_by_id} at {self.changed_at:%Y-%m-%d %H:%M}"
