"""What /metrics measures when it is scraped: the outbox backlog (from the database), the
depth of each broker queue, and beat's and the workers' heartbeats.

Each is a handful of cheap queries: the backlog is counted over the partial indexes the
sweeper uses (pending rows by ``not_before``, sending rows by ``claimed_at``), never over
the whole delivery table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from medguard_backend.celery import app as celery_app
from medguard_backend.monitoring import heartbeats
from notifications.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def outbox_backlog(now: datetime) -> tuple[dict[str, int], float]:
    """Deliveries waiting, by state, and the age of the oldest one that is due."""
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(
        due=Count("id", filter=Q(not_before__lte=now)),
        deferred=Count("id", filter=Q(not_before__gt=now, attempts=0)),
        retrying=Count("id", filter=Q(not_before__gt=now, attempts__gt=0)),
        oldest_due=Min("not_before", filter=Q(not_before__lte=now)),
    )
    stuck_before = now - timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS)
    sending = Delivery.objects.filter(status=DeliveryStatus.SENDING).aggregate(
        sending=Count("id"), stuck=Count("id", filter=Q(claimed_at__lt=stuck_before))
    )
    oldest = pending["oldest_due"]
    return (
        {
            "pending": pending["due"],
            "deferred": pending["deferred"],
            "retrying": pending["retrying"],
            "sending": sending["sending"],
            "stuck": sending["stuck"],
        },
        (now - oldest).total_seconds() if oldest else 0.0,
    )


def queue_depths() -> dict[str, int]:
    """Messages waiting in each queue, asked of the broker (a passive declare: it creates
    nothing and works the same on Redis, RabbitMQ and the filesystem transport)."""
    depths = {}
    with celery_app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        channel: Any = conn.default_channel  # kombu's stub lacks queue_declare
        for queue in heartbeats.all_queues():
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except Exception as error:  # a queue not declared yet has no messages
                if conn.connection_errors and isinstance(error, conn.connection_errors):
                    raise
                depths[queue] = 0
                channel = conn.channel()
    return depths


class OperationsCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        yield from self._outbox(now)
        yield from self._queues()
        yield from self._heartbeats(now)

    def _outbox(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        backlog, oldest_age = outbox_backlog(now)
        family = GaugeMetricFamily(
            "medguard_outbox_deliveries",
            "Deliveries not yet finished, by state: pending (due, waiting for a worker), "
            "deferred (quiet hours, digest time), retrying (back-off), sending, stuck "
            "(claimed longer ago than NOTIFICATION_STUCK_AFTER_SECONDS).",
            labels=["state"],
        )
        for state, count in backlog.items():
            family.add_metric([state], count)
        yield family
        yield GaugeMetricFamily(
            "medguard_outbox_oldest_due_age_seconds",
            "How long the oldest due, unsent delivery has been due (0 when none is).",
            value=oldest_age,
        )

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("medguard_broker_up", "Whether the broker answered the scrape.")
        depth = GaugeMetricFamily(
            "medguard_queue_messages", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        try:
            depths = queue_depths()
        except Exception as error:
            logger.warning("queue depth not measured: %s", type(error).__name__)
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            for queue, count in depths.items():
                depth.add_metric([queue], count)
        yield up
        yield depth

    def _heartbeats(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        beat, workers = heartbeats.read(now)
        beat_family = GaugeMetricFamily(
            "medguard_beat_last_tick_timestamp_seconds",
            "When beat last sent its heartbeat task (Unix time; absent if never).",
        )
        if beat.last is not None:
            beat_family.add_metric([], beat.last.timestamp())
        yield beat_family
        worker_family = GaugeMetricFamily(
            "medguard_worker_last_heartbeat_timestamp_seconds",
            "When a worker consuming each queue last wrote its heartbeat (Unix time).",
            labels=["queue"],
        )
        for queue, pulse in workers.items():
            if pulse.last is not None:
                worker_family.add_metric([queue], pulse.last.timestamp())
        yield worker_family
