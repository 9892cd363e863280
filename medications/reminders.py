"""Dose reminders: the seed's slot tasks, the per-minute dispatcher and the manual test.

One reminder per dose, whatever happens: a dose row is unique per (schedule, due time), and
only the run that creates the row sends its reminder — in the same transaction — so the
task running twice, two beats, a retry or the slot task racing the dispatcher all end in
one reminder. Reminders go through ``NotificationService`` like every notification.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from medguard_backend.batch_writers import BatchWriters
from notifications.services import NotificationDraft, NotificationService

from .dose_writes import create_doses
from .due import (
    DueSchedule,
    LocalWindow,
    due_among,
    due_at,
    due_batches,
    due_id_pages,
    local_windows,
    patient_time_zones,
)
from .models import Dose, Schedule

# The slot task at 08:00 reminds doses due in the quarter hour up to now: beat may start it
# a little late, and a dose due at 08:00 must not fall between two runs.
SLOT_WINDOW = datetime.timedelta(minutes=15)
# The dispatcher leaves slot doses in the beat's own time zone to the slot tasks for this
# long, then catches up any they missed (beat down, task lost).
SLOT_TASK_HEAD_START = datetime.timedelta(minutes=5)


@dataclass
class ReminderSummary:
    # Batches may be written from several threads (medguard_backend.batch_writers).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    schedules: int = 0
    reminded: int = 0
    already_reminded: int = 0
    batches: int = 0
    deliveries_queued: int = 0
    deliveries_deferred: int = 0
    # Pages of due schedules handed to ``remind_page`` tasks (``pages_as_tasks``).
    pages_published: int = 0
    time_zones: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schedules": self.schedules,
            "reminded": self.reminded,
            "already_reminded": self.already_reminded,
            "batches": self.batches,
            "deliveries_queued": self.deliveries_queued,
            "deliveries_deferred": self.deliveries_deferred,
            "pages_published": self.pages_published,
            "time_zones": self.time_zones,
        }


def reminder_draft(dose_id: int, due: DueSchedule, *, suffix: str = "") -> NotificationDraft:
    return NotificationDraft(
        user_id=due.patient_id,
        event="medication_reminder",
        notification_type="medication",
        priority="high",
        idempotency_key=f"dose-{dose_id}{suffix}",
        context={
            "medication_name": due.medication_name,
            "dosage": due.dosage,
            "instructions": due.instructions,
            "dose_time": due.due_at,
            "dose_id": dose_id,
        },
    )


def remind_batch(
    batch: Sequence[DueSchedule],
    now: datetime.datetime,
    summary: ReminderSummary,
) -> None:
    """Create the doses of one batch and remind the ones this run created, atomically."""
    with transaction.atomic():
        created = create_doses([(d.schedule_id, d.due_at) for d in batch], now)
        drafts = [
            reminder_draft(created[d.schedule_id], d) for d in batch if d.schedule_id in created
        ]
        result = NotificationService.send_notifications(drafts) if drafts else None
    with summary.lock:
        summary.batches += 1
        summary.schedules += len(batch)
        summary.reminded += len(drafts)
        summary.already_reminded += len(batch) - len(drafts)
        if result is not None:
            summary.deliveries_queued += result.queued
            summary.deliveries_deferred += result.deferred


def remind_due(
    now: datetime.datetime,
    window: datetime.timedelta,
    *,
    slots: Collection[str] | None = None,
    hold_back_slots_in: str | None = None,
    pages_as_tasks: bool = False,
) -> ReminderSummary:
    """Remind every dose due in (now - window, now] in its patient's time zone.

    ``hold_back_slots_in``: a time zone whose slot doses are left to the slot tasks for
    SLOT_TASK_HEAD_START (the dispatcher uses it so that it does not race the 08:00 task).

    ``pages_as_tasks`` (the beat tasks, with REMINDER_PAGES_AS_TASKS): read only the due
    schedules' ids here and publish one ``remind_page`` task per page of
    NOTIFICATION_WRITE_BATCH_SIZE, so that every worker writes a share of the slot instead of
    this one task writing all of it. A page written twice reminds nobody twice (a dose row is
    unique per schedule and due time); a page lost with the broker is caught up by the next
    minute's dispatcher within its grace period. What it buys, ``bench/scale.py`` (100,000
    patients, 2 shared cores, 2026-11-30): nothing on one machine — 2 workers sent the slot
    in 99.6 s with pages against 85.4 s without, back to back (lateness p50 60 s against
    52 s) — probably as each page is written without the writer threads' overlap and the
    first sends queue behind pages (not profiled).
    What it is for: the one task writing the slot took 26 s per 100,000 patients with a core
    to itself, 260 s for a million — more than a slot's minute, however many machines.
    """
    summary = ReminderSummary()
    held_offset = (
        now.astimezone(ZoneInfo(hold_back_slots_in)).utcoffset() if hold_back_slots_in else None
    )
    size = settings.NOTIFICATION_WRITE_BATCH_SIZE
    if pages_as_tasks:
        for tz in patient_time_zones():
            for local, wanted_slots in _due_windows(tz, now, window, slots, held_offset, summary):
                for ids in due_id_pages(local, tz, wanted_slots, size):
                    _publish_page(ids, local, tz, wanted_slots, now)
                    summary.pages_published += 1
                    summary.schedules += len(ids)
        return summary

    def write(batch: list[DueSchedule]) -> None:
        remind_batch(batch, now, summary)

    with BatchWriters(write) as writers:
        for tz in patient_time_zones():
            for local, wanted_slots in _due_windows(tz, now, window, slots, held_offset, summary):
                for batch in due_batches(local, tz, wanted_slots, size):
                    writers.submit(batch)
    return summary


def remind_page(
    schedule_ids: Sequence[int],
    window: LocalWindow,
    tz: ZoneInfo,
    slots: Collection[str] | None,
    now: datetime.datetime,
) -> ReminderSummary:
    """One page published by ``remind_due(pages_as_tasks=True)``: those of its schedules
    still due, their doses created and reminded as ``remind_batch`` does."""
    summary = ReminderSummary()
    due = due_among(schedule_ids, window, tz, slots)
    if due:
        remind_batch(due, now, summary)
    return summary


def _publish_page(
    ids: list[int],
    window: LocalWindow,
    tz: ZoneInfo,
    slots: Collection[str] | None,
    now: datetime.datetime,
) -> None:
    from .tasks import remind_page as remind_page_task

    task: Any = remind_page_task  # the stubs do not know apply_async's argsrepr
    task.apply_async(
        (
            ids,
            window.day.isoformat(),
            window.start.isoformat(),
            window.end.isoformat(),
            tz.key,
            sorted(slots) if slots is not None else None,
            now.isoformat(),
        ),
        # Celery would otherwise render the 2,000 ids into the headers and the worker's log.
        argsrepr=f"[<{len(ids)} schedules>, {window.day}, {tz.key}]",
    )


def _due_windows(
    tz: ZoneInfo,
    now: datetime.datetime,
    window: datetime.timedelta,
    slots: Collection[str] | None,
    held_offset: datetime.timedelta | None,
    summary: ReminderSummary,
) -> list[tuple[LocalWindow, Collection[str] | None]]:
    """The local windows (and the slots wanted in each) to remind in one time zone."""
    summary.time_zones.append(tz.key)
    same_clock_as_beat = held_offset is not None and now.astimezone(tz).utcoffset() == held_offset
    pieces: list[tuple[datetime.datetime, Collection[str] | None]] = [(now, slots)]
    if same_clock_as_beat:
        # Custom times now; slot doses only once the slot task had its head start.
        pieces = [
            (now, [Schedule.Slot.CUSTOM]),
            (
                now - SLOT_TASK_HEAD_START,
                [s for s in Schedule.Slot.values if s != Schedule.Slot.CUSTOM],
            ),
        ]
    return [
        (local, wanted_slots)
        for end, wanted_slots in pieces
        for local in local_windows(end - window, end, tz)
    ]


def send_slot_reminders(
    slot: str, now: datetime.datetime | None = None, *, pages_as_tasks: bool = False
) -> ReminderSummary:
    """The seed's Morning/Afternoon/Evening task: every dose in ``slot`` due now."""
    if slot not in Schedule.Slot.values or slot == Schedule.Slot.CUSTOM:
        raise ValueError(f"unknown slot {slot!r}; choose morning, afternoon or evening")
    return remind_due(
        now or timezone.now(), SLOT_WINDOW, slots=[slot], pages_as_tasks=pages_as_tasks
    )


def send_due_reminders(
    now: datetime.datetime | None = None, *, pages_as_tasks: bool = False
) -> ReminderSummary:
    """The per-minute dispatcher: custom times, slot times of patients elsewhere, and a
    catch-up for any dose the slot tasks missed, within its grace period."""
    now = now or timezone.now()
    window = datetime.timedelta(minutes=settings.MEDICATION_GRACE_MINUTES)
    return remind_due(
        now, window, hold_back_slots_in=settings.CELERY_TIMEZONE, pages_as_tasks=pages_as_tasks
    )


def remind_schedule_now(schedule_id: int, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Remind today's dose of one schedule now (the seed's manual test). Repeating it for
    the same dose reminds nobody twice."""
    now = now or timezone.now()
    schedule = (
        Schedule.objects.select_related("supply__patient", "supply__medicine")
        .filter(pk=schedule_id)
        .first()
    )
    if schedule is None:
        raise Schedule.DoesNotExist(f"no schedule with id {schedule_id}")
    patient = schedule.supply.patient
    today = now.astimezone(patient.timezone).date()
    answer: dict[str, Any] = {"schedule_id": schedule_id, "reminded": False}
    if not (schedule.runs_on(today) and schedule.supply.active and patient.is_active):
        return answer | {"reason": "not scheduled today"}
    due = DueSchedule(
        schedule_id=schedule.pk,
        patient_id=patient.pk,
        due_at=due_at(today, schedule.local_time, patient.timezone),
        medication_name=str(schedule.supply.medicine),
        dosage=schedule.supply.dosage,
        instructions=schedule.supply.instructions,
    )
    summary = ReminderSummary()
    remind_batch([due], now, summary)
    dose = Dose.objects.get(schedule_id=schedule.pk, due_at=due.due_at)
    answer |= {"dose_id": dose.pk, "due_at": due.due_at.isoformat()}
    if summary.reminded:
        return answer | {"reminded": True, "deliveries_queued": summary.deliveries_queued}
    return answer | {"reason": "already reminded"}
