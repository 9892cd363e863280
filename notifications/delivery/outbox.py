"""The database is the outbox: publishing delivery ids to Celery, and the sweeper that
re-publishes what is due, deferred or lost.

Broker messages are hints that carry only ids. A lost message, a killed worker or a broker
outage delays a delivery until the next sweep; it never loses one.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from notifications.delivery import poison
from notifications.delivery.claims import settle_claims
from notifications.models import Channel, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

# Digest emails are per user; a task takes this many users.
DIGEST_USERS_PER_TASK = 100
# One sweep publishes at most this many deliveries; the next sweep (a minute later)
# carries on, so a huge backlog cannot make one sweep run past its time limit.
SWEEP_LIMIT = 50_000
WORKER_LOST = "worker lost while sending"


def _chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    iterator = iter(ids)
    return [list(chunk) for chunk in iter(lambda: list(itertools.islice(iterator, size)), [])]


def _publish(task: Any, batches: list[list[int]], on_failure: Callable[[list[int]], None]) -> None:
    """Publish one task per batch over one broker connection. At the first failure the
    broker is taken to be down: the rest are not tried (each try would wait for the retry
    policy) and ``on_failure`` gets every id not published, for the sweeper to retry."""
    from medguard_backend.celery import app

    published = 0
    try:
        with app.producer_or_acquire() as producer:
            for batch in batches:
                # A short argsrepr: Celery otherwise renders the whole id list into the
                # message headers (and the worker's log), a millisecond per publish.
                task.apply_async((batch,), producer=producer, argsrepr=f"[<{len(batch)} ids>]")
                published += 1
    except Exception as error:  # kombu raises many types for "broker unreachable"
        unpublished = [item for batch in batches[published:] for item in batch]
        logger.warning(
            "could not publish %d %s for %d items (%s); the outbox sweeper will retry",
            len(batches) - published,
            task.name,
            len(unpublished),
            type(error).__name__,
        )
        on_failure(unpublished)


def enqueue_deliveries(delivery_ids: Sequence[int], *, alone: Sequence[int] = ()) -> None:
    """Publish ``send_deliveries`` tasks in batches, and one task for each of ``alone``
    (deliveries that killed their workers: ``poison.py``). Called after commit; a broker
    that is down is logged, and the rows are cleared for the next sweep to publish."""
    from notifications.tasks import send_deliveries

    def forget(ids: list[int]) -> None:
        Delivery.objects.filter(id__in=ids, status=DeliveryStatus.PENDING).update(enqueued_at=None)

    batches = _chunks(delivery_ids, settings.NOTIFICATION_BATCH_SIZE) + _chunks(alone, 1)
    _publish(send_deliveries, batches, forget)


def enqueue_digests(user_ids: Sequence[int], *, alone: Sequence[int] = ()) -> None:
    """Publish ``send_email_digests`` tasks for ``user_ids``, and one task for each user of
    ``alone`` (whose digest killed its workers: ``poison.py``)."""
    from notifications.tasks import send_email_digests

    def forget(ids: list[int]) -> None:
        Delivery.objects.filter(
            recipient__user_id__in=ids, digest=True, status=DeliveryStatus.PENDING
        ).update(enqueued_at=None)

    batches = _chunks(user_ids, DIGEST_USERS_PER_TASK) + _chunks(alone, 1)
    _publish(send_email_digests, batches, forget)


@dataclass
class SweepSummary:
    reclaimed: int = 0
    enqueued: int = 0
    digest_users: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "reclaimed": self.reclaimed,
            "enqueued": self.enqueued,
            "digest_users": self.digest_users,
        }


def reclaim_stuck(now: datetime | None = None) -> int:
    """Settle deliveries claimed by a worker that died before finishing them: those whose
    attempt says sent are finished as sent (never sent again), the rest go back to pending,
    but for those that killed their worker every time (``poison.py``). Returns how many were
    settled."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS)
    stuck_ids = list(
        Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=cutoff)
        .order_by("claimed_at")
        .values_list("id", flat=True)[:SWEEP_LIMIT]
    )
    if not stuck_ids:
        return 0
    settled = settle_claims(
        Delivery.objects.filter(id__in=stuck_ids, claimed_at__lt=cutoff),
        reason=WORKER_LOST,
        not_before=None,
        now=now,
        refund_untried=False,
        worker_died=True,
    )
    if settled.sent:
        logger.warning("%d stuck deliveries had been sent; recorded, not resent", settled.sent)
    return settled.total


def sweep(now: datetime | None = None) -> SweepSummary:
    """Reclaim stuck work, then publish every due delivery not published recently."""
    now = now or timezone.now()
    summary = SweepSummary(reclaimed=reclaim_stuck(now))
    republish_before = now - timedelta(seconds=settings.NOTIFICATION_REENQUEUE_AFTER_SECONDS)
    not_recently_enqueued = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=republish_before)
    due = Delivery.objects.filter(not_recently_enqueued, status=DeliveryStatus.PENDING).filter(
        not_before__lte=now
    )

    with transaction.atomic():
        due_now = list(
            due.filter(digest=False).order_by("id").values_list("id", "reclaims")[:SWEEP_LIMIT]
        )
        ids = [pk for pk, reclaims in due_now if not poison.is_suspect(reclaims)]
        alone = [pk for pk, reclaims in due_now if poison.is_suspect(reclaims)]
        if due_now:
            for chunk in _chunks([pk for pk, _ in due_now], 10_000):
                Delivery.objects.filter(id__in=chunk).update(enqueued_at=now)
            transaction.on_commit(lambda: enqueue_deliveries(ids, alone=alone))
    summary.enqueued = len(due_now)

    with transaction.atomic():
        digest_users = list(
            due.filter(digest=True, channel=Channel.EMAIL)
            .values_list("recipient__user_id")
            .annotate(most_reclaims=Max("reclaims"))
            .order_by("recipient__user_id")[:SWEEP_LIMIT]
        )
        user_ids = [user for user, most in digest_users if not poison.is_suspect(most)]
        alone_users = [user for user, most in digest_users if poison.is_suspect(most)]
        if digest_users:
            Delivery.objects.filter(
                not_recently_enqueued,
                status=DeliveryStatus.PENDING,
                digest=True,
                not_before__lte=now,
                recipient__user_id__in=[user for user, _ in digest_users],
            ).update(enqueued_at=now)
            transaction.on_commit(lambda: enqueue_digests(user_ids, alone=alone_users))
    summary.digest_users = len(digest_users)
    if summary.reclaimed or summary.enqueued or summary.digest_users:
        logger.info(
            "outbox sweep: reclaimed %d, enqueued %d deliveries, digests for %d users",
            summary.reclaimed,
            summary.enqueued,
            summary.digest_users,
        )
    return summary
