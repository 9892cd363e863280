"""Sending a channel's claimed deliveries to an HTTP provider as one batch.

A provider answering in 100 ms allows ten sends a second one after the other; the SMS
gateways and push services keep many requests in flight instead (``Transport.send_batch``),
so the batch's attempts are written first (one INSERT), the batch is sent, and the outcomes
— sent, retrying, failed, unknown — are recorded together: one UPDATE of the attempts and
one of the deliveries, whatever the batch size (``transitions.write``).

The exactly-once rules are ``send_one``'s: attempts committed as started before any
request; what the providers accepted is noted in the task's ``InFlight`` before it is
recorded; an unknown outcome is recorded as such, never retried.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from notifications.channels import (
    OutcomeUnknown,
    OutgoingMessage,
    SendReceipt,
    Transport,
)
from notifications.channels.sms.budget import BUDGET_REASON, over_budget
from notifications.delivery import outcomes
from notifications.delivery.claims import Accepted, Claimed, Unanswered
from notifications.delivery.faults import fault_point
from notifications.delivery.outgoing import Sendable
from notifications.delivery.transitions import Transition
from notifications.models import Delivery, DeliveryStatus
from notifications.receipts.outcomes import record_push_results

if TYPE_CHECKING:
    from notifications.delivery.dispatch import InFlight
    from notifications.delivery.outcomes import DispatchSummary

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=Sendable)

BATCHED_CHANNELS = frozenset({"sms", "push"})


def hold_over_budget(
    token: uuid.UUID, items: list[Claimed], summary: DispatchSummary
) -> list[Claimed]:
    """The SMS of ``items`` within today's budget; the rest wait for tomorrow's."""
    over, tomorrow = over_budget([(c.id, c.user.id) for c in items], timezone.now())
    if not over:
        return items
    summary.deferred += Delivery.objects.filter(
        pk__in=over, claim_token=token, status=DeliveryStatus.SENDING
    ).back_to_pending(not_before=tomorrow, last_error=BUDGET_REASON, refund_attempt=True)
    logger.warning("%d SMS held back until tomorrow: daily budget reached", len(over))
    return [c for c in items if c.id not in over]


def send_batch(
    transport: Transport,
    deliveries: Sequence[S],
    message_for: Callable[[S], OutgoingMessage],
    summary: DispatchSummary,
    flight: InFlight,
) -> None:
    """Send ``deliveries`` (one channel's), each as ``message_for`` renders it: rendered as
    the transport takes them, so rendering overlaps the requests in flight."""
    if not deliveries:
        return
    channel = deliveries[0].channel
    attempt_ids = outcomes.start_attempts([(d.pk, d.attempts) for d in deliveries])
    fault_point("before_send")
    interrupted: list[BaseException] = []

    def rendered() -> Iterator[OutgoingMessage]:
        # A message that cannot be rendered (or the time limit striking here) stops the
        # batch there; what is already in flight is still awaited and recorded.
        for delivery in deliveries:
            try:
                yield message_for(delivery)
            except Exception as error:
                interrupted.append(error)
                return

    results = transport.send_batch(rendered())
    unsent = list(zip(deliveries[len(results) :], attempt_ids[len(results) :], strict=True))
    deliveries, attempt_ids = deliveries[: len(results)], attempt_ids[: len(results)]
    now = timezone.now()
    batch: list[Transition] = []
    sent: list[int] = []
    tickets: list[tuple[int, int, str]] = []
    dead_devices: list[int] = []
    failures: dict[tuple[str, bool], list[tuple[S, int]]] = defaultdict(list)
    for delivery, attempt_id, result in zip(deliveries, attempt_ids, results, strict=True):
        dead_devices.extend(result.dead_device_ids)
        if isinstance(result, SendReceipt):
            flight.accepted[delivery.pk] = Accepted((attempt_id,), result.provider_message_id)
            sent.append(delivery.pk)
            batch.append(
                outcomes.sent(delivery.pk, attempt_id, result.provider, result.provider_message_id)
            )
            tickets.extend((delivery.pk, device, ticket) for device, ticket in result.push_tickets)
        elif isinstance(result, OutcomeUnknown):
            unanswered = Unanswered((attempt_id,), result.provider, result.reason)
            flight.unanswered[delivery.pk] = unanswered
            batch.append(outcomes.unknown(delivery.pk, attempt_id, result))
        else:
            failures[(result.reason, result.permanent)].append((delivery, attempt_id))
    if unsent:
        error = interrupted[0]
        if not isinstance(error, SoftTimeLimitExceeded):
            logger.error("delivery %d could not be rendered", unsent[0][0].pk, exc_info=error)
        failures[(f"not sent: {type(error).__name__} while rendering", False)].extend(unsent)
    for (reason, permanent), failed in failures.items():
        batch += outcomes.failed(
            [(d.pk, d.attempts) for d, _a in failed],
            [a for _d, a in failed],
            reason,
            permanent=permanent,
            channel=channel,
            summary=summary,
            now=now,
        )
    fault_point("after_send")
    # Sent, failed and unknown alike in one transaction of two statements: from the
    # providers' answers to this commit is the batch's duplicate window.
    outcomes.record(flight.token, batch, now)
    for delivery_id in sent:
        del flight.accepted[delivery_id]
    for delivery in deliveries:
        flight.unanswered.pop(delivery.pk, None)
    if sent:
        fault_point("after_commit")
        summary.sent += len(sent)
        summary.by_channel[channel] += len(sent)
    record_push_results(tickets, dead_devices)
    if interrupted and isinstance(interrupted[0], SoftTimeLimitExceeded):
        raise interrupted[0]
