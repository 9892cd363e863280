"""What /health/ and `manage.py health` check, in three scopes:

- ``live``: the process runs and its configuration loaded (nothing else: an orchestrator
  restarts a process that fails it, and restarting does not cure a dead database).
- ``ready``: this process can serve — the database, the cache and the broker answer, each
  within a short timeout (for a load balancer).
- ``full`` (GET /health/): ready, and the system works — beat is ticking and every queue
  has a worker consuming it (for monitoring; 503 pages someone).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Literal

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from medguard_backend.celery import app as celery_app

from . import heartbeats

logger = logging.getLogger(__name__)

Scope = Literal["live", "ready", "full"]
BROKER_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    # django-redis is set to swallow errors (a cache outage must not break pages), so a
    # failure shows up as the value not coming back.
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    try:
        if cache.get(key) != "ok":
            raise ConnectionError("value written to the cache could not be read back")
    finally:
        cache.delete(key)


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


SERVICE_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def report(scope: Scope = "full") -> tuple[bool, dict[str, object]]:
    """Whether all is well in ``scope``, and the body that says what was checked."""
    components: dict[str, object] = {}
    failing: list[str] = []
    if scope != "live":
        for name, check in SERVICE_CHECKS.items():
            try:
                check()
            except Exception as exc:  # any failure of a dependency is what we report
                logger.warning("health check failed: %s (%s)", name, type(exc).__name__)
                components[name] = {"status": "error", "error": type(exc).__name__}
                failing.append(name)
            else:
                components[name] = {"status": "ok"}
    if scope == "full" and "database" not in failing:
        beat, workers = heartbeats.read(timezone.now())
        components["beat"] = beat.as_dict()
        if not beat.alive:
            failing.append("beat")
        components["workers"] = {queue: pulse.as_dict() for queue, pulse in workers.items()}
        failing.extend(f"workers:{queue}" for queue, pulse in workers.items() if not pulse.alive)
    body: dict[str, object] = {
        "status": "error" if failing else "ok",
        "failing": failing,
        "components": components,
    }
    return not failing, body
