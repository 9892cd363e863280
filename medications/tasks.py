"""Celery tasks of the medications app; routed to the ``medications`` queue."""

from __future__ import annotations

import os

from celery import shared_task


@shared_task
def ping() -> dict[str, object]:
    """Answer from whichever worker consumed the medications queue (a liveness probe)."""
    return {"queue": "medications", "pid": os.getpid()}
