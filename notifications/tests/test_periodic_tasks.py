"""The periodic tasks: created idempotently, listed, enabled and disabled as the seed shows."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from notifications.periodic_tasks import PERIODIC_TASKS, PeriodicTaskNotFound

pytestmark = pytest.mark.django_db
NAMES = [spec.name for spec in PERIODIC_TASKS]


def test_seed_snippet_creates_lists_disables_and_enables() -> None:
    from notifications.periodic_tasks import (  # the seed imports with *
        create_all_periodic_tasks,
        disable_task,
        enable_task,
        list_all_tasks,
    )

    create_all_periodic_tasks()
    tasks = list_all_tasks()
    name = tasks[0]["name"]
    disable_task(name)
    disabled = {task["name"]: task["enabled"] for task in list_all_tasks()}
    enable_task(name)

    assert [task["name"] for task in tasks] == NAMES
    assert set(tasks[0]) >= {
        "name",
        "task",
        "enabled",
        "schedule",
        "last_run_at",
        "total_run_count",
    }
    assert disabled[name] is False
    assert PeriodicTask.objects.get(name=name).enabled is True


def test_creating_twice_changes_nothing_and_keeps_an_operators_choice() -> None:
    from notifications.periodic_tasks import create_all_periodic_tasks, disable_task

    create_all_periodic_tasks()
    before = {
        t.name: (t.pk, t.task, t.interval_id, t.crontab_id) for t in PeriodicTask.objects.all()
    }
    disable_task(NAMES[0])
    create_all_periodic_tasks()
    after = {
        t.name: (t.pk, t.task, t.interval_id, t.crontab_id) for t in PeriodicTask.objects.all()
    }

    assert after == before
    assert PeriodicTask.objects.get(name=NAMES[0]).enabled is False


def test_an_unknown_task_name_is_a_clear_error() -> None:
    from notifications.periodic_tasks import disable_task

    with pytest.raises(PeriodicTaskNotFound, match="no periodic task named 'Lunch Reminders'"):
        disable_task("Lunch Reminders")


def test_command_sets_up_lists_forces_and_resets(capsys) -> None:
    call_command("setup_notification_tasks")
    task = PeriodicTask.objects.get(name=NAMES[0])
    PeriodicTask.objects.filter(pk=task.pk).update(total_run_count=7)
    PeriodicTask.objects.create(
        name="Someone else's task", task="x.y", crontab=task.crontab, total_run_count=3
    )

    call_command("setup_notification_tasks", "--list")
    listing = capsys.readouterr().out
    call_command("setup_notification_tasks", "--reset")
    reset = PeriodicTask.objects.get(name=NAMES[0]).total_run_count
    call_command("setup_notification_tasks", "--force")

    assert f"{NAMES[0]}: enabled" in listing
    assert "runs 7" in listing
    assert reset == 0
    assert PeriodicTask.objects.get(name="Someone else's task").total_run_count == 3
    assert PeriodicTask.objects.get(name=NAMES[0]).pk != task.pk


def test_command_fails_with_the_reason_when_options_conflict() -> None:
    with pytest.raises(CommandError):
        call_command("setup_notification_tasks", "--list", "--force")


def test_the_seeds_tasks_exist_with_their_schedules_and_queues() -> None:
    from medguard_backend.celery import app
    from notifications.periodic_tasks import create_all_periodic_tasks, list_all_tasks

    create_all_periodic_tasks()
    tasks = {task["name"]: task for task in list_all_tasks()}

    assert {name: task["schedule"] for name, task in tasks.items()} == {
        "Morning Medication Reminders": "cron 0 8 * * * (Africa/Johannesburg)",
        "Afternoon Medication Reminders": "cron 0 14 * * * (Africa/Johannesburg)",
        "Evening Medication Reminders": "cron 0 20 * * * (Africa/Johannesburg)",
        "Low Stock Check": "cron 0 */6 * * * (Africa/Johannesburg)",
        "Expiring Medications Check": "cron 0 9 * * * (Africa/Johannesburg)",
        "Cleanup Old Notifications": "cron 0 2 * * 0 (Africa/Johannesburg)",
        "Medication Reminder Dispatcher": "every 60 seconds",
        "Notification Outbox Sweeper": "every 60 seconds",
        "Reconcile Unknown Deliveries": "every 300 seconds",
        "Push Receipts": "every 900 seconds",
        "Staff Dashboard Rollups": "every 300 seconds",
        "Caregiver Invitation SMS": "every 60 seconds",
        # Not the seed's: the heartbeat /health/ and /metrics read (issue 15).
        "Beat Heartbeat": "every 30 seconds",
    }
    assert PeriodicTask.objects.get(name="Morning Medication Reminders").kwargs == (
        '{"slot": "morning"}'
    )
    queues = {
        name: app.amqp.router.route({}, task["task"])["queue"].name for name, task in tasks.items()
    }
    assert queues["Morning Medication Reminders"] == "medications"
    assert queues["Low Stock Check"] == "notifications"
    assert queues["Notification Outbox Sweeper"] == "notifications"
    assert queues["Staff Dashboard Rollups"] == "celery"
    assert queues["Caregiver Invitation SMS"] == "celery"
    assert queues["Beat Heartbeat"] == "celery"
    # Every task name the beat will send exists in the worker's registry.
    app.loader.import_default_modules()
    assert {task["task"] for task in tasks.values()} <= set(app.tasks)
