"""Celery tasks of the notifications app; routed to the ``notifications`` queue."""

from __future__ import annotations

import os

from celery import shared_task


@shared_task
def ping() -> dict[str, object]:
    """Answer from whichever worker consumed the notifications queue (a liveness probe)."""
    return {"queue": "notifications", "pid": os.getpid()}
