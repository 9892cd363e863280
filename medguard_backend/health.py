"""GET /health/: is the database, the cache and the Celery broker reachable?

Written here rather than taken from django-health-check: its Celery check sends a task and
waits for a worker, while a load balancer needs a quick answer about the three services
this process itself depends on, each bounded by a short timeout so that one service being
down cannot make the check (or the site) hang.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app

logger = logging.getLogger(__name__)

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


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    components: dict[str, dict[str, str]] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure of a dependency is what we report
            logger.warning("health check failed: %s (%s)", name, type(exc).__name__)
            components[name] = {"status": "error", "error": type(exc).__name__}
        else:
            components[name] = {"status": "ok"}
    failing = [name for name, result in components.items() if result["status"] != "ok"]
    body = {
        "status": "error" if failing else "ok",
        "failing": failing,
        "components": components,
    }
    return JsonResponse(body, status=503 if failing else 200)
