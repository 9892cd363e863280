"""Celery tasks of the medications app; routed to the ``medications`` queue.

Arguments are plain values; every task is safe to run twice (doses are unique per schedule
and due time, and only the run that creates a dose reminds it).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings

from . import followups, reminders
from .due import LocalWindow


@shared_task
def ping() -> dict[str, object]:
    """Answer from whichever worker consumed the medications queue (a liveness probe)."""
    return {"queue": "medications", "pid": os.getpid()}


@shared_task
def send_slot_reminders(slot: str) -> dict[str, object]:
    """Morning (08:00), Afternoon (14:00), Evening (20:00) Medication Reminders: every
    patient whose dose in ``slot`` is due now, in their own time zone."""
    return reminders.send_slot_reminders(
        slot, pages_as_tasks=settings.REMINDER_PAGES_AS_TASKS
    ).as_dict()


@shared_task
def dispatch_due_reminders() -> dict[str, object]:
    """Every minute: custom-time doses, slot doses of patients in other time zones, snoozed
    doses whose snooze is over, missed doses and their caregivers."""
    summary = reminders.send_due_reminders(
        pages_as_tasks=settings.REMINDER_PAGES_AS_TASKS
    ).as_dict()
    return summary | {"follow_up": followups.follow_up().as_dict()}


@shared_task
def remind_page(
    schedule_ids: Sequence[int],
    day: str,
    start: str,
    end: str,
    time_zone: str,
    slots: Sequence[str] | None,
    now: str,
) -> dict[str, object]:
    """One page of a slot's due schedules (ids only), published by the slot tasks and the
    dispatcher so that every worker writes a share of the slot."""
    window = LocalWindow(
        datetime.date.fromisoformat(day),
        datetime.time.fromisoformat(start),
        datetime.time.fromisoformat(end),
    )
    return reminders.remind_page(
        schedule_ids, window, ZoneInfo(time_zone), slots, datetime.datetime.fromisoformat(now)
    ).as_dict()
