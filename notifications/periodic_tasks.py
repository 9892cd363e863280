"""The periodic tasks beat runs (django-celery-beat's DatabaseScheduler), as the seed shows:

    from notifications.periodic_tasks import *
    create_all_periodic_tasks()
    for task in list_all_tasks():
        print(f"{task['name']}: {task['enabled']}")
    disable_task("Morning Medication Reminders")
    enable_task("Morning Medication Reminders")

A few global tasks that select what is due from the database — never one periodic task per
user or per schedule. Crontab times are Africa/Johannesburg wall-clock times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

__all__ = [
    "PERIODIC_TASKS",
    "PeriodicTaskNotFound",
    "PeriodicTaskSpec",
    "create_all_periodic_tasks",
    "disable_task",
    "enable_task",
    "list_all_tasks",
    "reset_task_counters",
]


@dataclass(frozen=True)
class Crontab:
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"

    def describe(self) -> str:
        return f"cron {self.minute} {self.hour} * * {self.day_of_week}"


@dataclass(frozen=True)
class Every:
    seconds: int

    def describe(self) -> str:
        return f"every {self.seconds} seconds"


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str
    task: str
    schedule: Crontab | Every
    description: str
    kwargs: tuple[tuple[str, Any], ...] = ()


PERIODIC_TASKS: tuple[PeriodicTaskSpec, ...] = (
    PeriodicTaskSpec(
        "Morning Medication Reminders",
        "medications.tasks.send_slot_reminders",
        Crontab(minute="0", hour="8"),
        "Reminds every patient whose morning (08:00) dose is due, in their time zone.",
        kwargs=(("slot", "morning"),),
    ),
    PeriodicTaskSpec(
        "Afternoon Medication Reminders",
        "medications.tasks.send_slot_reminders",
        Crontab(minute="0", hour="14"),
        "Reminds every patient whose afternoon (14:00) dose is due, in their time zone.",
        kwargs=(("slot", "afternoon"),),
    ),
    PeriodicTaskSpec(
        "Evening Medication Reminders",
        "medications.tasks.send_slot_reminders",
        Crontab(minute="0", hour="20"),
        "Reminds every patient whose evening (20:00) dose is due, in their time zone.",
        kwargs=(("slot", "evening"),),
    ),
    PeriodicTaskSpec(
        "Low Stock Check",
        "notifications.tasks.check_low_stock_alerts",
        Crontab(minute="0", hour="*/6"),
        "Alerts patients whose supply runs out within its warning horizon (5 days by "
        "default), once per stock episode.",
    ),
    PeriodicTaskSpec(
        "Expiring Medications Check",
        "notifications.tasks.check_expiring_medications",
        Crontab(minute="0", hour="9"),
        "Alerts patients whose medication expires within its warning horizon, and on the "
        "day it expires.",
    ),
    PeriodicTaskSpec(
        "Cleanup Old Notifications",
        "notifications.tasks.cleanup_old_notifications",
        Crontab(minute="0", hour="2", day_of_week="0"),
        "Deletes read and dismissed notifications past their retention (Sundays 02:00).",
    ),
    PeriodicTaskSpec(
        "Medication Reminder Dispatcher",
        "medications.tasks.dispatch_due_reminders",
        Every(60),
        "Every minute: custom-time doses, slot doses of patients in other time zones, "
        "snoozed and missed doses, caregiver escalations.",
    ),
    PeriodicTaskSpec(
        "Notification Outbox Sweeper",
        "notifications.tasks.sweep_outbox",
        Every(60),
        "Sends deliveries that became due (quiet hours over, digest time, retry back-off), "
        "re-publishes lost broker messages and reclaims work of dead workers.",
    ),
    PeriodicTaskSpec(
        "Reconcile Unknown Deliveries",
        "notifications.tasks.reconcile_unknown_deliveries",
        Every(300),
        "Sends whose provider gave no answer and sent no receipt: sent again only where the "
        "provider evidently never took them; the rest wait for an operator.",
    ),
    PeriodicTaskSpec(
        "Push Receipts",
        "notifications.tasks.check_push_receipts",
        Every(900),
        "Fetches Expo's push receipts and deactivates devices that are no longer registered.",
    ),
    PeriodicTaskSpec(
        "Staff Dashboard Rollups",
        "clinic.tasks.refresh_dashboard_rollups",
        Every(300),
        "Every five minutes: recounts the staff dashboard's open days (deliveries, "
        "responses, doses) from a primary-key range, so the dashboard reads rollups only.",
    ),
    PeriodicTaskSpec(
        "Caregiver Invitation SMS",
        "patients.tasks.sweep_invitation_sms",
        Every(60),
        "Every minute: sends invitation texts that are due (retries after a temporary "
        "failure, lost broker messages) and hands back those a dead worker was sending.",
    ),
    PeriodicTaskSpec(
        "Beat Heartbeat",
        "medguard_backend.monitoring.tasks.record_beat_heartbeat",
        Every(30),
        "Every 30 seconds: records that beat is ticking, for /health/ and /metrics.",
    ),
)


class PeriodicTaskNotFound(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(spec.name for spec in PERIODIC_TASKS))
        super().__init__(f"no periodic task named {name!r}; known tasks: {known}")
        self.name = name


def _schedule_fields(schedule: Crontab | Every) -> dict[str, Any]:
    if isinstance(schedule, Every):
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval, "crontab": None}
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=schedule.minute,
        hour=schedule.hour,
        day_of_week=schedule.day_of_week,
        day_of_month="*",
        month_of_year="*",
        timezone=settings.CELERY_TIMEZONE,
    )
    return {"crontab": crontab, "interval": None}


@transaction.atomic
def create_all_periodic_tasks(force: bool = False) -> list[PeriodicTask]:
    """Create or update every task; running it again changes nothing. ``force`` deletes
    them first (their run counters and last-run times go with them). An operator's
    enabled/disabled choice survives a plain re-run."""
    if force:
        PeriodicTask.objects.filter(name__in=[spec.name for spec in PERIODIC_TASKS]).delete()
    tasks = []
    for spec in PERIODIC_TASKS:
        wanted = {
            "task": spec.task,
            "description": spec.description,
            "kwargs": json.dumps(dict(spec.kwargs), sort_keys=True),
            **_schedule_fields(spec.schedule),
        }
        task = PeriodicTask.objects.filter(name=spec.name).first()
        if task is None:
            task = PeriodicTask.objects.create(name=spec.name, enabled=True, **wanted)
        elif any(getattr(task, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(task, key, value)
            task.save()
        tasks.append(task)
    return tasks


def _describe(task: PeriodicTask) -> str:
    if task.crontab_id:
        crontab = task.crontab
        return (
            f"cron {crontab.minute} {crontab.hour} {crontab.day_of_month} "
            f"{crontab.month_of_year} {crontab.day_of_week} ({crontab.timezone})"
        )
    if task.interval_id:
        return f"every {task.interval.every} {task.interval.period}"
    return "no schedule"


def list_all_tasks() -> list[dict[str, Any]]:
    """The project's periodic tasks as dicts, in the order they are defined."""
    order = {spec.name: index for index, spec in enumerate(PERIODIC_TASKS)}
    tasks = PeriodicTask.objects.filter(name__in=order).select_related("crontab", "interval")
    return [
        {
            "name": task.name,
            "task": task.task,
            "enabled": task.enabled,
            "schedule": _describe(task),
            "last_run_at": task.last_run_at,
            "total_run_count": task.total_run_count,
            "description": task.description,
        }
        for task in sorted(tasks, key=lambda t: order[t.name])
    ]


def _set_enabled(name: str, enabled: bool) -> None:
    if name not in {spec.name for spec in PERIODIC_TASKS}:
        raise PeriodicTaskNotFound(name)
    task = PeriodicTask.objects.filter(name=name).first()
    if task is None:
        raise PeriodicTaskNotFound(name)
    if task.enabled != enabled:
        task.enabled = enabled
        task.save(update_fields=["enabled"])  # save() tells beat the schedule changed


def disable_task(name: str) -> None:
    _set_enabled(name, False)


def enable_task(name: str) -> None:
    _set_enabled(name, True)


def reset_task_counters() -> int:
    """Zero the run counters and last-run times of this project's tasks only."""
    return PeriodicTask.objects.filter(name__in=[spec.name for spec in PERIODIC_TASKS]).update(
        total_run_count=0, last_run_at=None
    )
