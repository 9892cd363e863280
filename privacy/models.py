"""What privacy keeps: the history of consent and the audit trail of access to patient data.

Both are append-only: a row is written once and never changed by the application. Erasure
is the one exception, and it goes through a queryset update that only removes the link to the
person (``user``/``actor``/``subject`` set to NULL, the IP address blanked), so the record that
consent was given or data was read survives without saying about whom.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """What a person consents to. Reminders by in-app message need no separate consent:
    they are the service the person signed up for and never leave our systems."""

    EMAIL_REMINDERS = "email_reminders", _("Reminders and alerts by email")
    PUSH_REMINDERS = "push_reminders", _("Reminders and alerts by push notification")
    SMS_REMINDERS = "sms_reminders", _("Reminders and alerts by SMS")
    CAREGIVER_SHARING = "caregiver_sharing", _("Sharing my medication information with caregivers")
    STAFF_BROADCASTS = "staff_broadcasts", _("Clinic news and offers from staff")


class ConsentMethod(models.TextChoices):
    WEB = "web", _("Web page")
    API = "api", _("App (API)")
    SMS_KEYWORD = "sms_keyword", _("SMS keyword")
    ADMIN = "admin", _("Staff, on the person's behalf")


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} rows are append-only; retention purges them")


class ConsentRecord(AppendOnlyModel):
    """One act of giving or withdrawing consent: what, when, how, by whom and to which
    wording. The person's current state is the latest record per purpose, kept on their
    notification preferences where the send-time policy reads it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="consent_records",
    )
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    granted = models.BooleanField(_("granted"))
    method = models.CharField(_("method"), max_length=16, choices=ConsentMethod.choices)
    wording_version = models.CharField(_("wording version"), max_length=32)
    # Required when staff record consent on the person's behalf (ConsentMethod.ADMIN).
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [
            models.Index(fields=["user", "purpose", "-recorded_at"], name="consent_user_idx")
        ]

    def __str__(self) -> str:
        state = "granted" if self.granted else "withdrawn"
        return f"{self.purpose} {state} by user {self.user_id} at {self.recorded_at:%Y-%m-%d}"


class AuditAction(models.TextChoices):
    READ = "read", _("Read")
    CREATE = "create", _("Created")
    CHANGE = "change", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    ERASE = "erase", _("Erased")


class AuditEntry(AppendOnlyModel):
    """Who saw or changed what about a patient. ``what`` names the kind of record and the
    fields touched, never their values: the trail must not become a second copy of the data."""

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="audit_entries",
        verbose_name=_("about"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("actor's role"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    resource = models.CharField(_("record"), max_length=64)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    what = models.CharField(_("what"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["subject", "-at"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.resource} of user {self.subject_id} by {self.actor_id}"


class ErasureRecord(AppendOnlyModel):
    """That a person's data was erased, when, how and why — and nothing about who they were.
    What POPIA s14/s24 asks us to be able to show; the counts say what was removed."""

    class Method(models.TextChoices):
        SELF = "self", _("By the person (web or app)")
        STAFF = "staff", _("By staff, on request")

    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    removed = models.JSONField(_("removed"), default=dict)
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")

    def __str__(self) -> str:
        return f"erasure {self.pk} ({self.method}) at {self.erased_at:%Y-%m-%d}"
