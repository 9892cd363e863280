"""Writing and reading heartbeats: is beat ticking, is some worker consuming each queue?

One upsert per write: a worker writes one row per queue it consumes, so the cost does not
grow with the number of workers (they overwrite each other's row; the newest wins).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from .models import Heartbeat

BEAT = "beat"
QUEUE_PREFIX = "queue:"


def queue_key(queue: str) -> str:
    return f"{QUEUE_PREFIX}{queue}"


def record(keys: Iterable[str], at: datetime, hostname: str = "") -> None:
    rows = [Heartbeat(key=key, beat_at=at, hostname=hostname[:200]) for key in keys]
    if rows:
        Heartbeat.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=["beat_at", "hostname"],
        )


def record_queues(queues: Iterable[str], at: datetime, hostname: str) -> None:
    record((queue_key(queue) for queue in queues), at, hostname)


@dataclass(frozen=True)
class Pulse:
    """One heartbeat as /health/ reports it."""

    last: datetime | None
    hostname: str
    age_seconds: float | None
    max_age_seconds: int

    @property
    def alive(self) -> bool:
        return self.age_seconds is not None and self.age_seconds <= self.max_age_seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.alive else "error",
            "last": self.last.isoformat() if self.last else None,
            "age_seconds": None if self.age_seconds is None else round(self.age_seconds, 1),
            "hostname": self.hostname,
        }


def pulse(found: Heartbeat | None, now: datetime, max_age_seconds: int) -> Pulse:
    if found is None:
        return Pulse(None, "", None, max_age_seconds)
    # A clock a little ahead on the writer's machine must not read as a negative age.
    age = max(0.0, (now - found.beat_at).total_seconds())
    return Pulse(found.beat_at, found.hostname, age, max_age_seconds)


def all_queues() -> list[str]:
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def read(now: datetime) -> tuple[Pulse, dict[str, Pulse]]:
    """Beat's pulse and each queue's, in one query."""
    queues = all_queues()
    found = {hb.key: hb for hb in Heartbeat.objects.filter(key__in=[BEAT, *map(queue_key, queues)])}
    beat = pulse(found.get(BEAT), now, settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS)
    workers = {
        queue: pulse(found.get(queue_key(queue)), now, settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS)
        for queue in queues
    }
    return beat, workers
