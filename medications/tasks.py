"""Celery tasks of the medications app; routed to the ``medications`` queue.

Arguments are plain values; every task is safe to run twice (doses are unique per schedule
and due time, and only the run that creates a dose reminds it).
"""

from __future__ import annotations

import os

from celery import shared_task

from . import followups, reminders


@shared_task
def ping() -> dict[str, object]:
    """Answer from whichever worker consumed the medications queue (a liveness probe)."""
    return {"queue": "medications", "pid": os.getpid()}


@shared_task
def send_slot_reminders(slot: str) -> dict[str, object]:
    """Morning (08:00), Afternoon (14:00), Evening (20:00) Medication Reminders: every
    patient whose dose in ``slot`` is due now, in their own time zone."""
    return reminders.send_slot_reminders(slot).as_dict()


@shared_task
def dispatch_due_reminders() -> dict[str, object]:
    """Every minute: custom-time doses, slot doses of patients in other time zones, snoozed
    doses whose snooze is over, missed doses and their caregivers."""
    summary = reminders.send_due_reminders().as_dict()
    return summary | {"follow_up": followups.follow_up().as_dict()}
