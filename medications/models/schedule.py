from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .medicine import Supply

SLOT_TIMES: dict[str, datetime.time] = {
    "morning": datetime.time(8, 0),
    "afternoon": datetime.time(14, 0),
    "evening": datetime.time(20, 0),
}
# Days of the week as bits, Monday first (datetime.weekday(): Monday is 0).
EVERY_DAY = 0b1111111


def weekday_bit(day: datetime.date) -> int:
    return 1 << day.weekday()


class Schedule(models.Model):
    """When a patient takes a dose of a supply: a slot (morning 08:00, afternoon 14:00,
    evening 20:00) or a custom time, in the patient's own time zone, on chosen weekdays."""

    class Slot(models.TextChoices):
        MORNING = "morning", _("Morning (08:00)")
        AFTERNOON = "afternoon", _("Afternoon (14:00)")
        EVENING = "evening", _("Evening (20:00)")
        CUSTOM = "custom", _("Custom time")

    supply = models.ForeignKey(
        Supply, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("supply")
    )
    slot = models.CharField(_("slot"), max_length=10, choices=Slot.choices)
    custom_time = models.TimeField(_("custom time"), null=True, blank=True)
    dose_quantity = models.DecimalField(
        _("dose quantity"),
        max_digits=8,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    days_of_week = models.PositiveSmallIntegerField(
        _("days of the week"),
        default=EVERY_DAY,
        help_text=_("Bit mask, Monday = 1, Tuesday = 2, ..., Sunday = 64."),
    )
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    paused = models.BooleanField(_("paused"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["supply", "slot"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        indexes = [
            models.Index(
                fields=["slot", "custom_time"],
                condition=models.Q(paused=False),
                name="schedule_active_slot_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(slot="custom", custom_time__isnull=False)
                    | (~models.Q(slot="custom") & models.Q(custom_time__isnull=True))
                ),
                name="schedule_custom_time_only_for_custom_slot",
            ),
            models.CheckConstraint(
                condition=models.Q(days_of_week__gte=1, days_of_week__lte=EVERY_DAY),
                name="schedule_days_of_week_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_slot_display()} schedule {self.pk}"

    def clean(self) -> None:
        if self.slot == self.Slot.CUSTOM and self.custom_time is None:
            raise ValidationError({"custom_time": _("Choose a time for a custom schedule.")})
        if self.slot != self.Slot.CUSTOM and self.custom_time is not None:
            raise ValidationError({"custom_time": _("Only a custom schedule has its own time.")})
        if self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})

    @property
    def local_time(self) -> datetime.time:
        """The time of day of the dose, in the patient's time zone."""
        if self.slot == self.Slot.CUSTOM:
            assert self.custom_time is not None  # noqa: S101 - enforced by a constraint
            return self.custom_time
        return SLOT_TIMES[self.slot]

    def runs_on(self, day: datetime.date) -> bool:
        return (
            not self.paused
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
            and bool(self.days_of_week & weekday_bit(day))
        )
