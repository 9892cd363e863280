"""Sending claimed deliveries: DESIGN.md's step 3, 5 and 6, in the worker.

A batch is claimed with one conditional update (only rows still pending and due), so two
workers given the same ids — a redelivered message, a sweep racing the on-commit hook —
never send one delivery twice. Preferences are read again here, because they may have
changed while the task waited. Each external send is recorded as it finishes: a worker
killed mid-batch leaves finished sends marked sent and at most the one in flight to be
reclaimed.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from notifications.channels import (
    OutcomeUnknown,
    OutgoingMessage,
    PushTarget,
    Transport,
    TransportError,
    get_transport,
)
from notifications.delivery import provider_batches
from notifications.delivery.sms_budget import hold_over_budget
from notifications.inbox.states import unread_count_cache_key
from notifications.models import (
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    PushDevice,
    UserNotificationPreferences,
)
from notifications.policy.addresses import sms_reachable
from notifications.policy.decisions import Action, may_name_medication, may_retry, retry_delay
from notifications.policy.preferences import preferences_for
from notifications.receipts.outcomes import record_push_results, record_unknown
from notifications.rendering.messages import TemplateOverrides, render_message
from notifications.sending.fanout import Addressed, Addressee, DecisionCache

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
        }


class Claimed(NamedTuple):
    """What deciding about a claimed delivery needs, read as a tuple: building three model
    instances per delivery would cost more than sending an in-app one."""

    id: int
    channel: str
    user: Addressee
    notification_type: str
    priority: str


CLAIMED_FIELDS = (
    "id",
    "channel",
    "recipient__user_id",
    "recipient__user__email",
    "recipient__user__phone",
    "recipient__user__phone_verified",
    "recipient__user__timezone",
    "recipient__user__is_active",
    "recipient__notification__notification_type",
    "recipient__notification__priority",
)


def claim(delivery_ids: Iterable[int], now: datetime) -> list[Claimed]:
    """Take the deliveries among ``delivery_ids`` that are still pending and due."""
    token = uuid.uuid4()
    claimed = Delivery.objects.filter(
        id__in=list(delivery_ids),
        status=DeliveryStatus.PENDING,
        not_before__lte=now,
        digest=False,
    ).update(
        status=DeliveryStatus.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return []
    rows = (
        Delivery.objects.filter(claim_token=token, status=DeliveryStatus.SENDING)
        .order_by("id")
        .values_list(*CLAIMED_FIELDS)
    )
    return [
        Claimed(
            pk,
            channel,
            Addressee(user_id, bool(email), sms_reachable(phone, verified), tz, active),
            kind,
            prio,
        )
        for pk, channel, user_id, email, phone, verified, tz, active, kind, prio in rows
    ]


def send_deliveries(delivery_ids: Sequence[int]) -> DispatchSummary:
    now = timezone.now()
    summary = DispatchSummary()
    claimed = claim(delivery_ids, now)
    summary.claimed = len(claimed)
    if not claimed:
        return summary
    try:
        _send_claimed(claimed, now, summary)
    except SoftTimeLimitExceeded:
        # Out of time: hand back what this task has not started, so the sweeper can give
        # it to another worker at once rather than after the stuck-claim timeout.
        summary.released = release([c.id for c in claimed])
        logger.warning("send_deliveries ran out of time; released %d", summary.released)
    return summary


def release(delivery_ids: Sequence[int]) -> int:
    return Delivery.objects.filter(id__in=delivery_ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING,
        claim_token=None,
        claimed_at=None,
        enqueued_at=None,
        attempts=F("attempts") - 1,
    )


def _send_claimed(claimed: list[Claimed], now: datetime, summary: DispatchSummary) -> None:
    preferences = preferences_for({c.user.id for c in claimed})
    targets = _push_targets(c.user.id for c in claimed if c.channel == Channel.PUSH)
    decide_for = DecisionCache(now)

    to_send: dict[str, list[int]] = defaultdict(list)
    for item in claimed:
        has_address = {
            Channel.IN_APP: True,
            Channel.EMAIL: item.user.has_email,
            Channel.SMS: item.user.has_phone,
            Channel.PUSH: bool(targets.get(item.user.id)),
        }[Channel(item.channel)]
        pair = Addressed(0, item.notification_type, item.priority, now, item.user)
        decision = decide_for(pair, preferences[item.user.id], item.channel, has_address)
        if decision.action is Action.SKIP or not item.user.is_active:
            reason = decision.reason if decision.action is Action.SKIP else "user_inactive"
            finish(item.id, DeliveryStatus.SKIPPED, error=reason)
            summary.skipped += 1
        elif decision.action is Action.DEFER:
            Delivery.objects.filter(pk=item.id).update(
                status=DeliveryStatus.PENDING,
                not_before=decision.not_before,
                digest=decision.digest,
                claim_token=None,
                claimed_at=None,
                enqueued_at=None,
                attempts=F("attempts") - 1,
            )
            summary.deferred += 1
        else:
            to_send[item.channel].append(item.id)

    in_app = to_send.pop(Channel.IN_APP, [])
    if in_app:
        _complete_in_app(in_app, [c.user.id for c in claimed if c.channel == Channel.IN_APP], now)
        summary.sent += len(in_app)
        summary.by_channel[Channel.IN_APP] += len(in_app)
    if not to_send:
        return

    deliveries = {
        d.pk: d
        for d in Delivery.objects.filter(
            id__in=[i for ids in to_send.values() for i in ids]
        ).select_related("recipient__notification", "recipient__user")
    }
    overrides = TemplateOverrides.load(
        {d.recipient.notification.event for d in deliveries.values()}
    )
    for channel, ids in to_send.items():
        if channel == Channel.SMS:
            ids = hold_over_budget(ids, deliveries, summary)
        with get_transport(channel) as transport:
            if channel in provider_batches.BATCHED_CHANNELS:
                provider_batches.send_batch(
                    transport,
                    [deliveries[i] for i in ids],
                    lambda d: _message(d, preferences[d.recipient.user_id], targets, overrides),
                    summary,
                )
                continue
            for delivery_id in ids:
                delivery = deliveries[delivery_id]
                prefs = preferences[delivery.recipient.user_id]
                message = _message(delivery, prefs, targets, overrides)
                _send_one(transport, delivery, message, summary)


def _complete_in_app(delivery_ids: list[int], user_ids: list[int], now: datetime) -> None:
    """The in-app copy is already visible (the recipient row); completing its delivery
    only records it and drops the cached unread badge count so clients see it at once."""
    Delivery.objects.filter(pk__in=delivery_ids).update(
        status=DeliveryStatus.SENT, sent_at=now, claim_token=None, last_error=""
    )
    cache.delete_many([unread_count_cache_key(user_id) for user_id in set(user_ids)])


def _push_targets(user_ids: Iterable[int]) -> dict[int, tuple[PushTarget, ...]]:
    ids = set(user_ids)
    if not ids:
        return {}
    targets: dict[int, list[PushTarget]] = defaultdict(list)
    for device in PushDevice.objects.filter(user_id__in=ids, active=True).order_by("id"):
        targets[device.user_id].append(
            PushTarget(device.pk, device.kind, device.token, dict(device.keys or {}))
        )
    return {user_id: tuple(found) for user_id, found in targets.items()}


def _message(
    delivery: Delivery,
    prefs: UserNotificationPreferences,
    targets: dict[int, tuple[PushTarget, ...]],
    overrides: TemplateOverrides,
) -> OutgoingMessage:
    user = delivery.recipient.user
    rendered = render_message(
        delivery.recipient.notification,
        user,
        channel=delivery.channel,
        show_medication_name=may_name_medication(delivery.channel, prefs),
        overrides=overrides,
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
        return replace(message, to=str(user.phone), text=rendered.sms)
    return replace(
        message,
        subject=rendered.push_title,
        text=rendered.push_body,
        push_targets=targets.get(user.pk, ()),
    )


def _send_one(
    transport: Transport, delivery: Delivery, message: OutgoingMessage, summary: DispatchSummary
) -> None:
    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts)
    try:
        receipt = transport.send(message)
    except OutcomeUnknown as error:
        record_unknown(delivery.pk, attempt.pk, error)
        return
    except TransportError as error:
        record_push_results((), error.dead_device_ids)
        record_failure(delivery, attempt, error.reason, permanent=error.permanent, summary=summary)
        return
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        # A bug or an unexpected provider answer: counted as a temporary failure so it is
        # retried (and ends as "failed" with the reason), never silently dropped.
        logger.exception("delivery %d: unexpected error while sending", delivery.pk)
        record_failure(
            delivery,
            attempt,
            f"unexpected error: {type(error).__name__}",
            permanent=False,
            summary=summary,
        )
        return
    finished = timezone.now()
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        outcome=AttemptOutcome.SENT,
        finished_at=finished,
        provider=receipt.provider,
        provider_message_id=receipt.provider_message_id,
    )
    finish(delivery.pk, DeliveryStatus.SENT, provider_message_id=receipt.provider_message_id)
    if receipt.provider:
        Delivery.objects.filter(pk=delivery.pk).update(provider=receipt.provider)
    record_push_results(
        [(delivery.pk, device, ticket) for device, ticket in receipt.push_tickets],
        receipt.dead_device_ids,
    )
    summary.sent += 1
    summary.by_channel[delivery.channel] += 1


def record_failure(
    delivery: Delivery,
    attempt: DeliveryAttempt,
    reason: str,
    *,
    permanent: bool,
    summary: DispatchSummary,
) -> None:
    """The one place a failed send becomes stored state: retry later, or failed."""
    now = timezone.now()
    outcome = AttemptOutcome.PERMANENT_FAILURE if permanent else AttemptOutcome.TEMPORARY_FAILURE
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome, finished_at=now, error=reason
    )
    if may_retry(delivery.attempts, settings.NOTIFICATION_MAX_ATTEMPTS, permanent):
        delay = retry_delay(
            delivery.attempts,
            base_seconds=settings.NOTIFICATION_RETRY_BASE_SECONDS,
            max_seconds=settings.NOTIFICATION_RETRY_MAX_SECONDS,
        )
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING,
            not_before=now + timedelta(seconds=delay),
            claim_token=None,
            claimed_at=None,
            enqueued_at=None,
            last_error=reason,
        )
        summary.retrying += 1
        logger.warning(
            "delivery %d (%s) attempt %d failed, retrying in %.0fs: %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            delay,
            reason,
        )
    else:
        finish(delivery.pk, DeliveryStatus.FAILED, error=reason)
        summary.failed += 1
        logger.error(
            "delivery %d (%s) failed after %d attempts: %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            reason,
        )


def finish(
    delivery_id: int, status: str, *, provider_message_id: str = "", error: str = ""
) -> None:
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
        status=status,
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
        provider_message_id=provider_message_id,
        claim_token=None,
        last_error=error,
    )
