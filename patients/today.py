"""A patient's day as the "Today" page shows it: every dose their schedules ask for on
their own calendar day, whether or not its reminder has gone out yet.

Dose rows are written when the reminder goes out; a dose still to come has none. A patient
may take (or skip) it early: ``dose_for`` then writes the row first, and the reminder run,
which only reminds the doses it creates, leaves it alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone

from medications.due import due_at
from medications.models import Dose, Schedule

if TYPE_CHECKING:
    from accounts.models import User

OPEN = (Dose.Status.PENDING, Dose.Status.SNOOZED, Dose.Status.MISSED)


@dataclass(frozen=True)
class DayDose:
    schedule: Schedule
    due_at: datetime.datetime
    dose: Dose | None

    @property
    def status(self) -> str:
        return self.dose.status if self.dose else Dose.Status.PENDING

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def can_snooze(self) -> bool:
        return self.dose is not None and self.dose.status in (
            Dose.Status.PENDING,
            Dose.Status.SNOOZED,
        )


def local_today(user: User, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(user.timezone).date()


def day_doses(patient: User, day: datetime.date) -> list[DayDose]:
    """The patient's doses of ``day`` (their calendar), by time: two queries."""
    schedules = [
        schedule
        for schedule in Schedule.objects.filter(
            supply__patient=patient, supply__active=True, paused=False
        ).select_related("supply__medicine")
        if schedule.runs_on(day)
    ]
    due = {s.pk: due_at(day, s.local_time, patient.timezone) for s in schedules}
    wanted = Q()
    for schedule_id, when in due.items():
        wanted |= Q(schedule_id=schedule_id, due_at=when)
    rows = {(d.schedule_id, d.due_at): d for d in Dose.objects.filter(wanted)} if due else {}
    items = [DayDose(s, due[s.pk], rows.get((s.pk, due[s.pk]))) for s in schedules]
    return sorted(items, key=lambda item: (item.due_at, str(item.schedule.supply.medicine)))


def dose_for(patient: User, schedule_id: int, when: datetime.datetime) -> Dose:
    """The dose of the patient's schedule due at ``when`` today, written if it has no row
    yet. ``Schedule.DoesNotExist`` when the schedule is not theirs or asks for no dose
    then (a forged or stale form)."""
    schedule = Schedule.objects.get(
        pk=schedule_id, supply__patient=patient, supply__active=True, paused=False
    )
    day = local_today(patient)
    if not schedule.runs_on(day) or due_at(day, schedule.local_time, patient.timezone) != when:
        raise Schedule.DoesNotExist(f"schedule {schedule_id} has no dose at {when.isoformat()}")
    dose, _ = Dose.objects.get_or_create(schedule=schedule, due_at=when)
    return dose
