"""The one place a delivery's outcome becomes stored state.

Every change of a delivery's state is a conditional UPDATE — guarded by the task's claim
token and the state it expects (``sending``) — committed in one transaction with the
attempt that caused it; a batch's changes are one such UPDATE for all its deliveries and
one for their attempts (``transitions.write``), not statements per delivery. An attempt is
written, and committed as ``started``, before the provider is called (``start_attempts``),
so a crash at any point leaves a trace that the sweeper decides from
(``claims.settle_claims``).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from notifications.channels import OutcomeUnknown
from notifications.delivery import transitions
from notifications.delivery.transitions import Transition
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


def record(token: uuid.UUID, batch: Sequence[Transition], now: datetime | None = None) -> int:
    """Commit ``batch``'s transitions together (``transitions.write``: two statements
    whatever its size); the number of deliveries changed."""
    changed = transitions.write(token, batch, now or timezone.now())
    if changed != len(batch):
        # Settled by someone else meanwhile (the sweeper after the stuck timeout): the
        # attempts say what happened all the same, which is what a later settlement reads.
        logger.warning(
            "%d deliveries were no longer claimed when their outcome was recorded",
            len(batch) - changed,
        )
    return changed


def sent(delivery_id: int, attempt_id: int, provider: str, provider_message_id: str) -> Transition:
    """The provider accepted: the attempt and its delivery become sent."""
    return Transition(
        delivery_id,
        attempt_id,
        DeliveryStatus.SENT,
        AttemptOutcome.SENT,
        provider=provider,
        provider_message_id=provider_message_id,
    )


def unknown(delivery_id: int, attempt_id: int, error: OutcomeUnknown) -> Transition:
    """The request went out and no answer came: the delivery waits as unknown (never
    reclaimed by the sweeper, never retried) until a receipt or the reconciler
    (``notifications.receipts.outcomes``) settles it."""
    logger.warning("delivery %d: outcome unknown (%s); not resent", delivery_id, error.reason)
    return Transition(
        delivery_id,
        attempt_id,
        DeliveryStatus.UNKNOWN,
        AttemptOutcome.UNKNOWN,
        provider=error.provider,
        error=error.reason,
    )


def failed(
    deliveries: Sequence[tuple[int, int]],
    attempt_ids: Sequence[int],
    reason: str,
    *,
    permanent: bool,
    channel: str,
    summary: DispatchSummary,
    now: datetime,
) -> list[Transition]:
    """The provider refused or could not be reached: the attempts close with ``reason``
    and each (delivery id, attempts so far) is retried later with back-off, or failed."""
    outcome = AttemptOutcome.PERMANENT_FAILURE if permanent else AttemptOutcome.TEMPORARY_FAILURE
    found: list[Transition] = []
    for (delivery_id, attempts), attempt_id in zip(deliveries, attempt_ids, strict=True):
        if may_retry(attempts, settings.NOTIFICATION_MAX_ATTEMPTS, permanent):
            delay = retry_delay(
                attempts,
                base_seconds=settings.NOTIFICATION_RETRY_BASE_SECONDS,
                max_seconds=settings.NOTIFICATION_RETRY_MAX_SECONDS,
            )
            found.append(
                Transition(
                    delivery_id,
                    attempt_id,
                    DeliveryStatus.PENDING,
                    outcome,
                    error=reason,
                    not_before=now + timedelta(seconds=delay),
                )
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
            found.append(
                Transition(delivery_id, attempt_id, DeliveryStatus.FAILED, outcome, error=reason)
            )
            summary.failed += 1
            logger.error(
                "delivery %d (%s) failed after %d attempts: %s",
                delivery_id,
                channel,
                attempts,
                reason,
            )
    return found


def record_sent(
    token: uuid.UUID,
    delivery_ids: Sequence[int],
    attempt_ids: Sequence[int],
    provider_message_id: str,
    provider: str = "",
) -> int:
    """The provider accepted one message standing for ``delivery_ids`` (one, or a digest's
    several, each with its attempt): all become sent, together."""
    return record(
        token,
        [
            sent(delivery_id, attempt_id, provider, provider_message_id)
            for delivery_id, attempt_id in zip(delivery_ids, attempt_ids, strict=True)
        ],
    )


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
    """``failed``, recorded at once."""
    now = timezone.now()
    record(
        token,
        failed(
            deliveries,
            attempt_ids,
            reason,
            permanent=permanent,
            channel=channel,
            summary=summary,
            now=now,
        ),
        now,
    )
