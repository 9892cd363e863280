from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medications.models import CaregiverLink
from privacy.encryption.fields import EncryptedEmailField


class CaregiverInvitation(models.Model):
    """A patient's invitation to look after them, sent by email with a one-time link. Only
    a hash of the link's token is kept: the database alone cannot accept an invitation."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="caregiver_invitations",
        verbose_name=_("patient"),
    )
    email = EncryptedEmailField(_("caregiver's email address"))
    token_hash = models.CharField(max_length=64, unique=True)
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
        verbose_name = _("caregiver invitation")
        verbose_name_plural = _("caregiver invitations")

    def __str__(self) -> str:
        return f"caregiver invitation {self.pk} from patient {self.patient_id}"

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
