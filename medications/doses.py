"""What a patient does with a dose: take it, skip it or snooze it.

The services the API exposes; each validates, then changes the dose with ONE conditional
UPDATE whose ``WHERE`` names the states it may leave. Two requests for the same dose (a
double tap, a retried request, two devices) are therefore decided by the database: one
changes the row, the other finds it already changed. Only the request that closed the dose
lowers the stock, in the same transaction, so stock is lowered exactly once per dose.

Transitions (anything else raises ``DoseStateError``):

- take: pending, snoozed or missed -> taken (a late take of a missed dose is recorded as
  taken, ``missed_at`` stays as the trace); taking a taken dose again changes nothing.
- skip: pending, snoozed or missed -> skipped (a patient may say that a dose the system
  marked missed was left out on purpose); skipping a skipped dose again changes nothing.
- snooze: pending or snoozed -> snoozed until now + minutes.

Taken and skipped doses are closed: reminders only go to pending and snoozed doses.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, F, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext

from .models import Dose, Supply

if TYPE_CHECKING:
    from accounts.models import User

__all__ = ["DoseStateError", "doses_for", "skip_dose", "snooze_dose", "take_dose"]

Status = Dose.Status
TAKEABLE = (Status.PENDING, Status.SNOOZED, Status.MISSED)
SKIPPABLE = (Status.PENDING, Status.SNOOZED, Status.MISSED)
SNOOZABLE = (Status.PENDING, Status.SNOOZED)


class DoseStateError(ValueError):
    """The dose is in a state the action cannot leave; the message is for the patient, in
    the active language."""

    def __init__(self, message: str, *, dose_id: int, status: str) -> None:
        super().__init__(message)
        self.dose_id = dose_id
        self.status = status


def doses_for(user: User) -> QuerySet[Dose]:
    """The doses of ``user``'s own schedules (as a patient)."""
    return Dose.objects.filter(schedule__supply__patient=user)


def _own_dose(dose_id: int, user: User) -> Dose:
    # Another patient's dose is indistinguishable from a dose that does not exist.
    return doses_for(user).select_related("schedule").get(pk=dose_id)


def take_dose(dose_id: int, *, by: User, at: datetime.datetime | None = None) -> Dose:
    """Record the dose as taken at ``at`` (default now) and lower the supply's stock by the
    schedule's dose quantity, never below zero."""
    at = at or timezone.now()
    with transaction.atomic():
        dose = _own_dose(dose_id, by)
        closed = Dose.objects.filter(pk=dose.pk, status__in=TAKEABLE).update(
            status=Status.TAKEN, recorded_at=at, recorded_by=by
        )
        if closed:
            # F() makes the database do the subtraction, so two doses of one supply taken
            # at the same moment both count (no read-modify-write to lose one).
            Supply.objects.filter(pk=dose.schedule.supply_id).update(
                quantity_on_hand=Greatest(
                    F("quantity_on_hand") - Value(dose.schedule.dose_quantity),
                    Value(0),
                    output_field=DecimalField(max_digits=10, decimal_places=2),
                ),
                updated_at=timezone.now(),
            )
        dose.refresh_from_db()
    if not closed and dose.status != Status.TAKEN:
        raise DoseStateError(
            gettext("This dose was skipped, so it can no longer be marked as taken."),
            dose_id=dose.pk,
            status=dose.status,
        )
    return dose


def skip_dose(dose_id: int, *, by: User, at: datetime.datetime | None = None) -> Dose:
    """Record that the patient left the dose out on purpose; stock is not touched."""
    at = at or timezone.now()
    with transaction.atomic():
        dose = _own_dose(dose_id, by)
        closed = Dose.objects.filter(pk=dose.pk, status__in=SKIPPABLE).update(
            status=Status.SKIPPED, recorded_at=at, recorded_by=by
        )
        dose.refresh_from_db()
    if not closed and dose.status != Status.SKIPPED:
        raise DoseStateError(
            gettext("This dose was already taken, so it can no longer be skipped."),
            dose_id=dose.pk,
            status=dose.status,
        )
    return dose


def _snooze_minutes(minutes: int | None) -> int:
    """Developer-facing validation, in English like ``NotificationService``'s: the API
    validates its input before it calls this."""
    maximum = settings.MEDICATION_SNOOZE_MAX_MINUTES
    if minutes is None:
        return min(settings.MEDICATION_SNOOZE_DEFAULT_MINUTES, maximum)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValueError(f"minutes must be a whole number, not {minutes!r}")
    if not 1 <= minutes <= maximum:
        raise ValueError(f"minutes must be between 1 and {maximum}, not {minutes}")
    return minutes


def snooze_dose(dose_id: int, *, by: User, minutes: int | None = None) -> Dose:
    """Remind again in ``minutes`` (default ``MEDICATION_SNOOZE_DEFAULT_MINUTES``, at most
    ``MEDICATION_SNOOZE_MAX_MINUTES``), counted from now."""
    minutes = _snooze_minutes(minutes)
    now = timezone.now()
    with transaction.atomic():
        dose = _own_dose(dose_id, by)
        snoozed = Dose.objects.filter(pk=dose.pk, status__in=SNOOZABLE).update(
            status=Status.SNOOZED,
            snoozed_until=now + datetime.timedelta(minutes=minutes),
            snooze_count=F("snooze_count") + 1,
        )
        dose.refresh_from_db()
    if not snoozed:
        raise DoseStateError(
            gettext("Only a dose that is still due can be snoozed."),
            dose_id=dose.pk,
            status=dose.status,
        )
    return dose
