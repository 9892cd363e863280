"""Celery tasks of the clinic dashboard (default queue)."""

from __future__ import annotations

from celery import shared_task

from .rollups import refresh_rollups


@shared_task(ignore_result=True)
def refresh_dashboard_rollups() -> dict[str, int]:
    """Recount the dashboard's open days (every five minutes, and after a broadcast)."""
    return refresh_rollups()
