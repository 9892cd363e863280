"""The beat heartbeat: a task beat schedules every 30 seconds ("Beat Heartbeat")."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from medguard_backend.request_context import published_at

from . import heartbeats


@shared_task(bind=True, ignore_result=True)
def record_beat_heartbeat(self) -> None:
    """Record when beat sent this task (not when a worker got to it): a busy queue must
    not make a ticking beat look silent."""
    sent = published_at(self.request) or timezone.now()
    heartbeats.record([heartbeats.BEAT], sent, hostname=self.request.hostname or "")
