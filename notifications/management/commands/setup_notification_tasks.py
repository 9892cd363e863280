from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from notifications.periodic_tasks import (
    create_all_periodic_tasks,
    list_all_tasks,
    reset_task_counters,
)


class Command(BaseCommand):
    help = (
        "Create the periodic tasks beat runs (idempotent). --list shows them, --force "
        "recreates them, --reset zeroes their run counters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--list", action="store_true", help="list the tasks and stop")
        group.add_argument("--force", action="store_true", help="delete and recreate the tasks")
        group.add_argument(
            "--reset", action="store_true", help="reset the tasks' run counters and last runs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["list"]:
                self._print_list()
            elif options["reset"]:
                count = reset_task_counters()
                self.stdout.write(self.style.SUCCESS(f"reset the counters of {count} tasks"))
            else:
                tasks = create_all_periodic_tasks(force=options["force"])
                verb = "recreated" if options["force"] else "set up"
                self.stdout.write(self.style.SUCCESS(f"{verb} {len(tasks)} periodic tasks"))
                self._print_list()
        except DatabaseError as error:
            raise CommandError(
                f"could not reach the periodic task tables ({error}); "
                "run `python manage.py migrate` first"
            ) from error

    def _print_list(self) -> None:
        tasks = list_all_tasks()
        if not tasks:
            self.stdout.write(
                "no periodic tasks yet: run `python manage.py setup_notification_tasks`"
            )
            return
        for task in tasks:
            state = "enabled" if task["enabled"] else "disabled"
            last_run = task["last_run_at"].isoformat() if task["last_run_at"] else "never"
            self.stdout.write(
                f"{task['name']}: {state} | {task['schedule']} | {task['task']} | "
                f"last run {last_run} | runs {task['total_run_count']}"
            )
