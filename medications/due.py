"""Which schedules have a dose due in a window of time, in each patient's own time zone.

Slot and custom times are wall-clock times where the patient lives. The question "what is
due between 07:45 and 08:00?" is asked once per time zone that has patients, as local
dates and times, so the database does the selecting (never one query per schedule).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet

from .models import SLOT_TIMES, Schedule, weekday_bit

ONE_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class LocalWindow:
    """A stretch of one local day: ``start`` to ``end`` inclusive."""

    day: datetime.date
    start: datetime.time
    end: datetime.time


def local_windows(
    start: datetime.datetime, end: datetime.datetime, tz: ZoneInfo
) -> list[LocalWindow]:
    """[start, end] as local (day, from, to) pieces in ``tz``; two when it crosses midnight."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    windows = []
    day = local_start.date()
    while day <= local_end.date():
        first = local_start.time() if day == local_start.date() else datetime.time.min
        last = local_end.time() if day == local_end.date() else datetime.time.max
        windows.append(LocalWindow(day, first, last))
        day += datetime.timedelta(days=1)
    return windows


def due_at(day: datetime.date, local_time: datetime.time, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, local_time, tzinfo=tz).astimezone(datetime.UTC)


def patient_time_zones() -> list[ZoneInfo]:
    """Time zones of patients with an active schedule (a handful; one query)."""
    zones = (
        get_user_model()
        .objects.filter(is_active=True, supplies__active=True, supplies__schedules__paused=False)
        .values_list("timezone", flat=True)
        .distinct()
    )
    return sorted(
        {zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone)) for zone in zones},
        key=lambda zone: zone.key,
    )


def schedules_due(
    window: LocalWindow, tz: ZoneInfo, slots: Collection[str] | None = None
) -> QuerySet[Schedule]:
    """Active schedules of patients in ``tz`` whose dose falls in ``window``."""
    times = Q()
    for slot, slot_time in SLOT_TIMES.items():
        if (slots is None or slot in slots) and window.start <= slot_time <= window.end:
            times |= Q(slot=slot)
    if slots is None or Schedule.Slot.CUSTOM in slots:
        times |= Q(slot=Schedule.Slot.CUSTOM, custom_time__range=(window.start, window.end))
    if not times:
        return Schedule.objects.none()
    return (
        Schedule.objects.filter(
            times,
            paused=False,
            supply__active=True,
            supply__patient__is_active=True,
            supply__patient__timezone=tz,
            start_date__lte=window.day,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=window.day))
        .annotate(runs_today=F("days_of_week").bitand(weekday_bit(window.day)))
        .filter(runs_today__gt=0)
    )


@dataclass(frozen=True)
class DueSchedule:
    schedule_id: int
    patient_id: int
    due_at: datetime.datetime
    medication_name: str
    dosage: str
    instructions: str


DUE_FIELDS = (
    "id",
    "slot",
    "custom_time",
    "supply__patient_id",
    "supply__dosage",
    "supply__instructions",
    "supply__medicine__name",
    "supply__medicine__strength",
)


def due_batches(
    window: LocalWindow, tz: ZoneInfo, slots: Collection[str] | None, size: int
) -> Iterator[list[DueSchedule]]:
    """The due schedules in keyset pages of ``size``: memory stays flat however many."""
    queryset = schedules_due(window, tz, slots).order_by("id").values_list(*DUE_FIELDS)
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id)[:size])
        if not rows:
            return
        yield _due_schedules(rows, window, tz)
        last_id = rows[-1][0]


def due_id_pages(
    window: LocalWindow, tz: ZoneInfo, slots: Collection[str] | None, size: int
) -> Iterator[list[int]]:
    """The ids of the due schedules in keyset pages of ``size``: what a page task is given
    (ids only — the medication and dosage are read, and decrypted, by the task)."""
    queryset = schedules_due(window, tz, slots).order_by("id").values_list("id", flat=True)
    last_id = 0
    while True:
        ids = list(queryset.filter(id__gt=last_id)[:size])
        if not ids:
            return
        yield ids
        last_id = ids[-1]


def due_among(
    schedule_ids: Collection[int], window: LocalWindow, tz: ZoneInfo, slots: Collection[str] | None
) -> list[DueSchedule]:
    """Those of ``schedule_ids`` still due in ``window`` (one paused since is left out)."""
    rows = (
        schedules_due(window, tz, slots)
        .filter(id__in=list(schedule_ids))
        .order_by("id")
        .values_list(*DUE_FIELDS)
    )
    return _due_schedules(list(rows), window, tz)


def _due_schedules(
    rows: list[tuple[Any, ...]], window: LocalWindow, tz: ZoneInfo
) -> list[DueSchedule]:
    return [
        DueSchedule(
            schedule_id=pk,
            patient_id=patient_id,
            due_at=due_at(window.day, custom_time or SLOT_TIMES[slot], tz),
            medication_name=" ".join(part for part in (name, strength) if part),
            dosage=dosage,
            instructions=instructions,
        )
        for pk, slot, custom_time, patient_id, dosage, instructions, name, strength in rows
    ]
