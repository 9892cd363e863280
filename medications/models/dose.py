from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .schedule import Schedule


class Dose(models.Model):
    """One dose a schedule asks for, at one time: at most one row (and so one reminder) per
    schedule and due time, whoever creates it first."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        TAKEN = "taken", _("Taken")
        SKIPPED = "skipped", _("Skipped")
        MISSED = "missed", _("Missed")
        SNOOZED = "snoozed", _("Snoozed")

    # No index of its own: the unique (schedule, due_at) index leads with it, and each
    # index costs every one of a slot's 100,000 inserts.
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.CASCADE,
        related_name="doses",
        verbose_name=_("schedule"),
        db_index=False,
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    snoozed_until = models.DateTimeField(_("snoozed until"), null=True, blank=True)
    snooze_count = models.PositiveSmallIntegerField(_("times snoozed"), default=0)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("recorded by"),
        db_index=False,  # indexed below where set: most doses are recorded by nobody yet
    )
    missed_at = models.DateTimeField(_("missed at"), null=True, blank=True)

    class Meta:
        ordering = ["-due_at"]
        verbose_name = _("dose")
        verbose_name_plural = _("doses")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "due_at"], name="one_dose_per_due_time"),
        ]
        indexes = [
            # The dispatcher's questions: which open doses are snoozed to now, which have
            # passed their grace period.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=["pending", "snoozed"]),
                name="dose_open_idx",
            ),
            models.Index(
                fields=["missed_at"], condition=models.Q(status="missed"), name="dose_missed_idx"
            ),
            # For deleting a user (SET NULL): only the rows that name someone.
            models.Index(
                fields=["recorded_by"],
                condition=models.Q(recorded_by__isnull=False),
                name="dose_recorded_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"dose {self.pk} of schedule {self.schedule_id} at {self.due_at:%Y-%m-%d %H:%M}"


class CaregiverLink(models.Model):
    """A caregiver looking after a patient. A patient may have several caregivers and a
    caregiver several patients; each link says how soon and how much they are told."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="caregiver_links",
        verbose_name=_("patient"),
    )
    caregiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="patient_links",
        verbose_name=_("caregiver"),
    )
    # Minutes after a dose is marked missed before this caregiver hears of it.
    escalation_delay_minutes = models.PositiveIntegerField(
        _("escalation delay (minutes)"), default=30
    )
    # What the patient allows this caregiver to see: without it, the caregiver is told that a
    # dose was missed and when, not which medicine.
    can_see_medication_details = models.BooleanField(_("may see medication details"), default=False)
    receives_stock_alerts = models.BooleanField(
        _("receives stock and expiry alerts"), default=False
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("caregiver link")
        verbose_name_plural = _("caregiver links")
        constraints = [
            models.UniqueConstraint(fields=["patient", "caregiver"], name="one_link_per_pair"),
            models.CheckConstraint(
                condition=~models.Q(patient=models.F("caregiver")), name="caregiver_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"caregiver {self.caregiver_id} of patient {self.patient_id}"


class DoseEscalation(models.Model):
    """A missed dose told to one caregiver: at most once per (dose, caregiver)."""

    dose = models.ForeignKey(Dose, on_delete=models.CASCADE, related_name="escalations")
    caregiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    notified_at = models.DateTimeField(_("notified at"))

    class Meta:
        verbose_name = _("dose escalation")
        verbose_name_plural = _("dose escalations")
        constraints = [
            models.UniqueConstraint(fields=["dose", "caregiver"], name="one_escalation_per_dose"),
        ]

    def __str__(self) -> str:
        return f"dose {self.dose_id} told to caregiver {self.caregiver_id}"
