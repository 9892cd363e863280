"""What a batch of deliveries did, counted once the worker has sent it.

Read back from the database the batch wrote rather than counted inside the pipeline, so
the pipeline carries no metrics code: two queries per batch (its deliveries, its attempts),
whatever its size. Only rows this run touched are counted — those it claimed (``claimed_at``
from its start on) and attempts it started — so a redelivered message counts nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus

from .instruments import ATTEMPTS, DELIVERIES, FAILURES, PROVIDER_LATENCY, REMINDER_LATENESS

REMINDER_EVENT = "medication_reminder"
FINAL_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
# Failure reasons become a label: digits of codes are kept ("smtp 451"), anything that
# could vary per message (ids, addresses after a colon) is cut, and the length bounded.
_REASON_END = re.compile(r"[:(\[]")


def failure_reason(error: str) -> str:
    reason = _REASON_END.split(error, maxsplit=1)[0].strip().lower()
    return reason[:60] or "unknown"


def observe_batch(delivery_ids: Sequence[int], started: datetime) -> None:
    """Count the deliveries among ``delivery_ids`` that reached a final status since
    ``started``, the attempts started since, and the lateness of reminders sent."""
    finished = Delivery.objects.filter(
        id__in=list(delivery_ids), claimed_at__gte=started, status__in=FINAL_STATUSES
    ).values_list(
        "channel",
        "status",
        "sent_at",
        "recipient__notification__event",
        # Encrypted whole at rest: read and decrypted here (a few tens of microseconds a
        # delivery, against the milliseconds of sending it).
        "recipient__notification__context",
    )
    for channel, status, sent_at, event, context in finished:
        DELIVERIES.labels(channel, status).inc()
        dose_time = context.get("dose_time") if isinstance(context, dict) else None
        if status == DeliveryStatus.SENT and event == REMINDER_EVENT and dose_time and sent_at:
            due = datetime.fromisoformat(dose_time)
            REMINDER_LATENESS.labels(channel).observe(max(0.0, (sent_at - due).total_seconds()))

    attempts = DeliveryAttempt.objects.filter(
        delivery_id__in=list(delivery_ids), started_at__gte=started, finished_at__isnull=False
    ).values_list("delivery__channel", "outcome", "error", "started_at", "finished_at")
    for channel, outcome, error, attempt_started, attempt_finished in attempts:
        ATTEMPTS.labels(channel, outcome).inc()
        if attempt_finished is not None:  # excluded above; the ORM's type does not know
            latency = (attempt_finished - attempt_started).total_seconds()
            PROVIDER_LATENCY.labels(channel).observe(max(0.0, latency))
        if outcome != AttemptOutcome.SENT:
            permanent = "true" if outcome == AttemptOutcome.PERMANENT_FAILURE else "false"
            FAILURES.labels(channel, failure_reason(error), permanent).inc()
