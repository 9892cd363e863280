"""`manage.py health [--live | --ready]`: the /health/ checks as an exit status, for an
orchestrator's exec probe on a process without HTTP (a worker, beat)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from medguard_backend.monitoring.checks import Scope, report


class Command(BaseCommand):
    help = (
        "Check health and exit 0 when all is well, 1 when not. --live: the configuration "
        "loads; --ready: the database, cache and broker answer; neither: also beat's and "
        "the workers' heartbeats."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--live", action="store_true", help="only that the process can start")
        scope.add_argument("--ready", action="store_true", help="the services this process needs")

    def handle(self, *args: Any, **options: Any) -> None:
        scope: Scope = "live" if options["live"] else "ready" if options["ready"] else "full"
        ok, body = report(scope)
        self.stdout.write(json.dumps(body, sort_keys=True))
        if not ok:
            raise CommandError(f"unhealthy: {', '.join(body['failing'])}")  # type: ignore[arg-type]
