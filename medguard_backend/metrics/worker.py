"""Metrics in Celery workers: the delivery counts after each batch, and (on a machine of
its own) the worker's own /metrics endpoint.

Hooked to Celery's task signals so that the delivery pipeline's code stays free of metrics.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_init
from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

SEND_DELIVERIES = "notifications.tasks.send_deliveries"
_started: dict[str, datetime] = {}


@task_prerun.connect
def _batch_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id and getattr(task, "name", None) == SEND_DELIVERIES:
        _started[task_id] = timezone.now()


@task_postrun.connect
def _batch_finished(
    task_id: str | None = None,
    args: Any = None,
    kwargs: Any = None,
    retval: Any = None,
    **_: Any,
) -> None:
    started = _started.pop(task_id, None) if task_id else None
    if started is None:
        return
    delivery_ids = (args[0] if args else None) or (kwargs or {}).get("delivery_ids") or []
    try:
        from .deliveries import observe_batch

        # The task's summary when it returned one (not when it raised or retried).
        summary = retval if isinstance(retval, dict) else None
        observe_batch(list(delivery_ids), started, summary)
    except Exception:  # counting must never fail a batch that was sent
        logger.exception("delivery metrics not recorded for task %s", task_id)


@worker_init.connect
def _serve_worker_metrics(**_: Any) -> None:
    port = settings.METRICS_WORKER_PORT
    if not port:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    start_http_server(port, registry=registry)
    logger.info("worker metrics served on port %d", port)
