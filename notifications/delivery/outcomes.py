"""The one place a delivery's outcome becomes stored state.

Every change of a delivery's state is one conditional UPDATE — guarded by the task's claim
token and the state it expects (``sending``) — committed in one transaction with the
attempt that caused it. An attempt is written, and committed as ``started``, before the
provider is called (``start_attempts``), so a crash at any point leaves a trace that the
sweeper decides from (``claims.settle_claims``).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.policy.decisions import may_retry, retry_delay

logger = logging.getLogger(__name__)


@dataclass
class DispatchSummary:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # The longest time from a provider's acceptance to the commit that records it: the
    # window in which a crash makes a resend (README, "Exactly once").
    longest_window_ms: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "deferred": self.deferred,
            "skipped": self.skipped,
            "retrying": self.retrying,
            "failed": self.failed,
            "released": self.released,
            "sent_by_channel": dict(self.by_channel),
            "longest_window_ms": round(self.longest_window_ms, 2),
        }


def start_attempts(deliveries: Sequence[tuple[int, int]]) -> list[int]:
    """Write (and, outside a transaction, commit) one ``started`` attempt per
    (delivery id, attempt number) before the provider is called; their ids, in order."""
    attempts = DeliveryAttempt.objects.bulk_create(
        [DeliveryAttempt(delivery_id=pk, number=number) for pk, number in deliveries]
    )
    return [attempt.pk for attempt in attempts]


def record_sent(
    token: uuid.UUID,
    delivery_ids: Sequence[int],
    attempt_ids: Sequence[int],
    provider_message_id: str,
    provider: str = "",
) -> int:
    """The provider accepted: the attempts and their deliveries become sent, together."""
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk__in=attempt_ids).update(
            outcome=AttemptOutcome.SENT,
            finished_at=now,
            provider=provider,
            provider_message_id=provider_message_id,
        )
        changed = Delivery.objects.filter(
            pk__in=delivery_ids, claim_token=token, status=DeliveryStatus.SENDING
        ).update(
            status=DeliveryStatus.SENT,
            sent_at=now,
            provider=provider,
            provider_message_id=provider_message_id,
            claim_token=None,
            last_error="",
        )
    if changed != len(delivery_ids):
        # Settled by someone else meanwhile (the sweeper after the stuck timeout): the
        # attempt says sent all the same, which is what a later settlement reads.
        logger.warning(
            "%d deliveries were no longer claimed when recorded as sent",
            len(delivery_ids) - changed,
        )
    return changed


def complete_without_provider(token: uuid.UUID, delivery_ids: Sequence[int], now: datetime) -> int:
    """In-app deliveries: the recipient row is the message, so there is no provider to call
    and nothing to attempt; one update completes the lot."""
    return Delivery.objects.filter(
        pk__in=delivery_ids, claim_token=token, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.SENT, sent_at=now, claim_token=None, last_error="")


def skip(token: uuid.UUID, delivery_ids: Sequence[int], reason: str) -> int:
    """Not sent, and never will be (``reason`` is a ``SkipReason``)."""
    return Delivery.objects.filter(
        pk__in=delivery_ids, claim_token=token, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.SKIPPED, claim_token=None, last_error=reason)


def defer(token: uuid.UUID, delivery_ids: Sequence[int], not_before: datetime, digest: bool) -> int:
    """Not now (quiet hours, the digest time): back to the outbox until ``not_before``;
    the claim tried nothing, so its attempt is given back."""
    return Delivery.objects.filter(
        pk__in=delivery_ids, claim_token=token, status=DeliveryStatus.SENDING
    ).back_to_pending(not_before=not_before, digest=digest, refund_attempt=True)


def record_failure(
    token: uuid.UUID,
    deliveries: Sequence[tuple[int, int]],
    attempt_ids: Sequence[int],
    reason: str,
    *,
    permanent: bool,
    channel: str,
    summary: DispatchSummary,
) -> None:
    """The provider refused or could not be reached: the attempts close with ``reason``
    and each (delivery id, attempts so far) is retried later with back-off, or failed."""
    now = timezone.now()
    outcome = AttemptOutcome.PERMANENT_FAILURE if permanent else AttemptOutcome.TEMPORARY_FAILURE
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk__in=attempt_ids).update(
            outcome=outcome, finished_at=now, error=reason
        )
        for delivery_id, attempts in deliveries:
            claimed = Delivery.objects.filter(
                pk=delivery_id, claim_token=token, status=DeliveryStatus.SENDING
            )
            if may_retry(attempts, settings.NOTIFICATION_MAX_ATTEMPTS, permanent):
                delay = retry_delay(
                    attempts,
                    base_seconds=settings.NOTIFICATION_RETRY_BASE_SECONDS,
                    max_seconds=settings.NOTIFICATION_RETRY_MAX_SECONDS,
                )
                claimed.back_to_pending(
                    not_before=now + timedelta(seconds=delay), last_error=reason
                )
                summary.retrying += 1
                logger.warning(
                    "delivery %d (%s) attempt %d failed, retrying in %.0fs: %s",
                    delivery_id,
                    channel,
                    attempts,
                    delay,
                    reason,
                )
            else:
                claimed.update(status=DeliveryStatus.FAILED, claim_token=None, last_error=reason)
                summary.failed += 1
                logger.error(
                    "delivery %d (%s) failed after %d attempts: %s",
                    delivery_id,
                    channel,
                    attempts,
                    reason,
                )
