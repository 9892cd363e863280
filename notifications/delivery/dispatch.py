"""Sending claimed deliveries: DESIGN.md's steps 3, 5 and 6, in the worker.

Claim (``claims.py``), decide again with the preferences as they are now (they may have
changed while the task waited), then send each message and record its outcome
(``outcomes.py``): the attempt is committed as ``started`` before the provider is called,
and its outcome commits together with the delivery's new state. A task that cannot go on
(a database or broker error, the soft time limit) hands its claim back at once
(``claims.release``) and raises ``ClaimReleased`` so the task is retried shortly.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from notifications.channels import (
    OutcomeUnknown,
    OutgoingMessage,
    PushTarget,
    Transport,
    TransportError,
    get_transport,
)
from notifications.delivery import claims, outcomes, provider_batches
from notifications.delivery.claims import Accepted, Claimed, Unanswered
from notifications.delivery.faults import fault_point
from notifications.delivery.outcomes import DispatchSummary
from notifications.delivery.outgoing import Outgoing, Sendable, read_outgoing
from notifications.inbox.states import unread_count_cache_key
from notifications.models import Channel, Delivery, PushDevice, UserNotificationPreferences
from notifications.policy.decision_cache import DecisionCache
from notifications.policy.decisions import Action, SkipReason, may_name_medication
from notifications.policy.preferences import preferences_for
from notifications.rendering.messages import BatchRenderings, TemplateOverrides

__all__ = ["ClaimReleased", "DispatchSummary", "send_deliveries"]

logger = logging.getLogger(__name__)

# What makes a task give its claim back and retry: the database or the broker failing
# under it (a dropped connection, a failover, "database is locked"). A bug (any other
# error) leaves its claim to the sweeper's stuck timeout rather than retrying in a loop.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, BrokerError)


class ClaimReleased(Exception):
    """The task failed and handed its claim back; retry it in ``retry_in`` seconds."""

    def __init__(
        self, cause: str, retry_in: float = 0, summary: DispatchSummary | None = None
    ) -> None:
        # Only ``cause`` in args, so the exception pickles (Celery's retry carries it).
        super().__init__(cause)
        self.retry_in = retry_in
        self.summary = summary or DispatchSummary()

    def __str__(self) -> str:
        return f"claim released after {self.args[0]}; retry in {self.retry_in:.0f}s"


@dataclass
class InFlight:
    """What this task holds: its claim token, and the messages a provider accepted, or
    took with no answer, whose outcome is not committed yet (what a failure handler must
    record, not resend)."""

    token: uuid.UUID = field(default_factory=uuid.uuid4)
    accepted: dict[int, Accepted] = field(default_factory=dict)
    unanswered: dict[int, Unanswered] = field(default_factory=dict)


def send_deliveries(delivery_ids: Sequence[int], *, retry_in: float = 5) -> DispatchSummary:
    """Claim and send those of ``delivery_ids`` still pending and due. On a transient
    error the claim is released (due again in ``retry_in`` seconds) and ``ClaimReleased``
    raised."""
    now = timezone.now()
    summary = DispatchSummary()
    flight = InFlight()
    with released_on_failure("send_deliveries", flight, summary, retry_in):
        due = Delivery.objects.filter(id__in=list(delivery_ids), digest=False)
        claimed = claims.claim(flight.token, due, now)
        summary.claimed = len(claimed)
        if claimed:
            _send_claimed(claimed, now, summary, flight)
    if summary.claimed:
        logger.info(
            "send_deliveries: claimed %d, sent %d, deferred %d, skipped %d, retrying %d,"
            " failed %d; longest accept-to-commit window %.1f ms",
            summary.claimed,
            summary.sent,
            summary.deferred,
            summary.skipped,
            summary.retrying,
            summary.failed,
            summary.longest_window_ms,
        )
    return summary


@contextmanager
def released_on_failure(
    task: str, flight: InFlight, summary: DispatchSummary, retry_in: float
) -> Iterator[None]:
    """Give the claim back when the task cannot go on: out of time (due again at once, for
    another worker), or a database or broker error (due again in ``retry_in`` seconds, and
    ``ClaimReleased`` raised for the task to be retried then)."""
    try:
        yield
    except SoftTimeLimitExceeded:
        summary.released = claims.release(
            flight.token,
            flight.accepted,
            unanswered=flight.unanswered,
            reason="task ran out of time",
            retry_in=0,
        ).returned
    except TRANSIENT_ERRORS as error:
        cause = type(error).__name__
        logger.warning("%s failed (%s); releasing its claim", task, cause)
        summary.released = claims.release(
            flight.token,
            flight.accepted,
            unanswered=flight.unanswered,
            reason=f"task failed: {cause}",
            retry_in=retry_in,
        ).returned
        raise ClaimReleased(cause, retry_in, summary) from error


def decide_claimed(
    claimed: Sequence[Claimed],
    now: datetime,
    token: uuid.UUID,
    preferences: dict[int, UserNotificationPreferences],
    has_push: set[int],
    summary: DispatchSummary,
    *,
    digest_due: bool = False,
) -> dict[str, list[Claimed]]:
    """Decide each claimed delivery again with today's preferences; record the skips and
    deferrals (one update per distinct outcome, not per delivery) and return the rest by
    channel. ``digest_due``: these are digest deliveries whose digest time has come."""
    decide_for = DecisionCache(now)
    skipped: dict[str, list[int]] = defaultdict(list)
    deferred: dict[tuple[datetime, bool], list[int]] = defaultdict(list)
    to_send: dict[str, list[Claimed]] = defaultdict(list)
    for item in claimed:
        if not item.user.is_active:
            skipped[SkipReason.USER_INACTIVE].append(item.id)
            continue
        has_address = {
            Channel.IN_APP: True,
            Channel.EMAIL: item.user.has_email,
            Channel.SMS: item.user.has_phone,
            Channel.PUSH: item.user.id in has_push,
        }[Channel(item.channel)]
        decision = decide_for(
            item.notification_type,
            item.priority,
            item.user,
            preferences[item.user.id],
            item.channel,
            has_address,
            digest_due=digest_due,
        )
        if decision.action is Action.SKIP:
            skipped[decision.reason].append(item.id)
        elif decision.action is Action.DEFER:
            deferred[(decision.not_before, decision.digest)].append(item.id)
        else:
            to_send[item.channel].append(item)
    for reason, ids in skipped.items():
        summary.skipped += outcomes.skip(token, ids, reason)
    for (not_before, digest), ids in deferred.items():
        summary.deferred += outcomes.defer(token, ids, not_before, digest)
    return to_send


def _send_claimed(
    claimed: list[Claimed], now: datetime, summary: DispatchSummary, flight: InFlight
) -> None:
    preferences = preferences_for({c.user.id for c in claimed})
    targets = _push_targets(c.user.id for c in claimed if c.channel == Channel.PUSH)
    to_send = decide_claimed(claimed, now, flight.token, preferences, set(targets), summary)

    in_app = to_send.pop(Channel.IN_APP, [])
    if in_app:
        completed = outcomes.complete_without_provider(flight.token, [c.id for c in in_app], now)
        # Clients see the new message at once rather than when the cached badge expires.
        cache.delete_many(
            [unread_count_cache_key(user_id) for user_id in {c.user.id for c in in_app}]
        )
        summary.sent += completed
        summary.by_channel[Channel.IN_APP] += completed
    if not to_send:
        return

    deliveries = read_outgoing([c.id for items in to_send.values() for c in items], to_send)
    renderings = BatchRenderings(
        TemplateOverrides.load({d.notification.event for d in deliveries.values()})
    )

    def message_for(delivery: Outgoing) -> OutgoingMessage:
        return _message(delivery, preferences[delivery.user.pk], targets, renderings)

    for channel, items in to_send.items():
        if channel == Channel.SMS:
            items = provider_batches.hold_over_budget(flight.token, items, summary)
        with get_transport(channel) as transport:
            if channel in provider_batches.BATCHED_CHANNELS:
                provider_batches.send_batch(
                    transport, [deliveries[item.id] for item in items], message_for, summary, flight
                )
                continue
            for item in items:
                delivery = deliveries[item.id]
                send_one(transport, [delivery], message_for(delivery), summary, flight)


def send_one(
    transport: Transport,
    deliveries: Sequence[Sendable],
    message: OutgoingMessage,
    summary: DispatchSummary,
    flight: InFlight,
) -> None:
    """Send one message standing for ``deliveries`` (one, or a digest's several) and record
    the outcome: the exactly-once core of the pipeline."""
    ids = [d.pk for d in deliveries]
    attempt_ids = outcomes.start_attempts([(d.pk, d.attempts) for d in deliveries])
    fault_point("before_send")
    try:
        receipt = transport.send(message)
    except OutcomeUnknown as error:
        flight.unanswered[ids[0]] = Unanswered(tuple(attempt_ids), error.provider, error.reason)
        outcomes.record(
            flight.token,
            [
                outcomes.unknown(pk, attempt, error)
                for pk, attempt in zip(ids, attempt_ids, strict=True)
            ],
        )
        del flight.unanswered[ids[0]]
        return
    except TransportError as error:
        reason, permanent = error.reason, error.permanent
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        # A bug or an unexpected provider answer: counted as a temporary failure so it is
        # retried (and ends as "failed" with the reason), never silently dropped.
        logger.exception("delivery %d: unexpected error while sending", ids[0])
        reason, permanent = f"unexpected error: {type(error).__name__}", False
    else:
        # From here until record_sent commits, a crash resends this message (with the same
        # idempotency key; for email the Message-ID): the one duplicate window left, two
        # UPDATEs and a COMMIT long (README, "Exactly once": median 11 ms on PostgreSQL
        # here). A database error is no crash: the failure handler records what is noted
        # here as sent.
        accepted_at = time.perf_counter()
        flight.accepted[ids[0]] = Accepted(tuple(attempt_ids), receipt.provider_message_id)
        fault_point("after_send")
        outcomes.record_sent(
            flight.token, ids, attempt_ids, receipt.provider_message_id, receipt.provider
        )
        window_ms = (time.perf_counter() - accepted_at) * 1000
        summary.longest_window_ms = max(summary.longest_window_ms, window_ms)
        del flight.accepted[ids[0]]
        fault_point("after_commit")
        if receipt.dead_device_ids:
            PushDevice.objects.filter(pk__in=receipt.dead_device_ids).update(active=False)
        summary.sent += len(ids)
        summary.by_channel[message.channel] += len(ids)
        return
    outcomes.record_failure(
        flight.token,
        [(d.pk, d.attempts) for d in deliveries],
        attempt_ids,
        reason,
        permanent=permanent,
        channel=message.channel,
        summary=summary,
    )


def _push_targets(user_ids: Iterable[int]) -> dict[int, tuple[PushTarget, ...]]:
    ids = set(user_ids)
    if not ids:
        return {}
    targets: dict[int, list[PushTarget]] = defaultdict(list)
    devices = PushDevice.objects.filter(user_id__in=ids, active=True).order_by("id")
    for pk, user_id, kind, token, keys in devices.values_list(
        "id", "user_id", "kind", "token", "keys"
    ):
        targets[user_id].append(PushTarget(pk, kind, token, dict(keys or {})))
    return {user_id: tuple(found) for user_id, found in targets.items()}


def _message(
    delivery: Outgoing,
    prefs: UserNotificationPreferences,
    targets: dict[int, tuple[PushTarget, ...]],
    renderings: BatchRenderings,
) -> OutgoingMessage:
    user = delivery.user
    rendered = renderings.render(
        delivery.notification,
        user,
        channel=delivery.channel,
        show_medication_name=may_name_medication(delivery.channel, prefs),
    )
    message = OutgoingMessage(
        delivery_id=delivery.pk,
        channel=delivery.channel,
        to="",
        idempotency_key=f"delivery-{delivery.pk}",
        language=user.preferred_language,
    )
    if delivery.channel == Channel.EMAIL:
        return replace(
            message,
            to=user.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    if delivery.channel == Channel.SMS:
        return replace(message, to=delivery.phone, text=rendered.sms)
    return replace(
        message,
        subject=rendered.push_title,
        text=rendered.push_body,
        push_targets=targets.get(user.pk, ()),
    )
