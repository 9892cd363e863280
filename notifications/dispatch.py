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

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from .channels import OutgoingMessage, PushTarget, Transport, TransportError, get_transport
from .models import (
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    PushDevice,
    UserNotificationPreferences,
)
from .policy import Action, decide, may_name_medication, may_retry, retry_delay
from .preferences import preferences_for
from .rendering import TemplateOverrides, render_digest, render_message

logger = logging.getLogger(__name__)


def unread_count_cache_key(user_id: int) -> str:
    return f"notifications:unread-count:{user_id}"


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


def claim(delivery_ids: Iterable[int], now: datetime) -> list[Delivery]:
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
    return list(
        Delivery.objects.filter(claim_token=token, status=DeliveryStatus.SENDING)
        .select_related("recipient__notification", "recipient__user")
        .order_by("id")
    )


def send_deliveries(delivery_ids: Sequence[int]) -> DispatchSummary:
    now = timezone.now()
    summary = DispatchSummary()
    deliveries = claim(delivery_ids, now)
    summary.claimed = len(deliveries)
    if not deliveries:
        return summary
    try:
        _send_claimed(deliveries, now, summary)
    except SoftTimeLimitExceeded:
        # Out of time: hand back what this task has not started, so the sweeper can give
        # it to another worker at once rather than after the stuck-claim timeout.
        summary.released = release([d.pk for d in deliveries])
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


def _send_claimed(deliveries: list[Delivery], now: datetime, summary: DispatchSummary) -> None:
    user_ids = {d.recipient.user_id for d in deliveries}
    preferences = preferences_for(user_ids)
    targets = _push_targets(d.recipient.user_id for d in deliveries if d.channel == Channel.PUSH)

    to_send: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        user = delivery.recipient.user
        notification = delivery.recipient.notification
        has_address = {
            Channel.IN_APP: True,
            Channel.EMAIL: bool(user.email),
            Channel.SMS: bool(user.phone),
            Channel.PUSH: bool(targets.get(user.pk)),
        }[Channel(delivery.channel)]
        decision = decide(
            channel=delivery.channel,
            notification_type=notification.notification_type,
            priority=notification.priority,
            prefs=preferences[user.pk],
            tz=user.timezone,
            now=now,
            has_address=has_address,
        )
        if decision.action is Action.SKIP or not user.is_active:
            reason = decision.reason if decision.action is Action.SKIP else "user_inactive"
            _finish(delivery, DeliveryStatus.SKIPPED, error=reason)
            summary.skipped += 1
        elif decision.action is Action.DEFER:
            Delivery.objects.filter(pk=delivery.pk).update(
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
            to_send[delivery.channel].append(delivery)

    in_app = to_send.pop(Channel.IN_APP, [])
    if in_app:
        _complete_in_app(in_app, now)
        summary.sent += len(in_app)
        summary.by_channel[Channel.IN_APP] += len(in_app)

    overrides = TemplateOverrides.load(
        {d.recipient.notification.event for batch in to_send.values() for d in batch}
    )
    for channel, batch in to_send.items():
        with get_transport(channel) as transport:
            for delivery in batch:
                prefs = preferences[delivery.recipient.user_id]
                message = _message(delivery, prefs, targets, overrides)
                _send_one(transport, delivery, message, summary)


def _complete_in_app(deliveries: list[Delivery], now: datetime) -> None:
    """The in-app copy is already visible (the recipient row); completing its delivery
    only records it and drops the cached unread badge count so clients see it at once."""
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        status=DeliveryStatus.SENT, sent_at=now, claim_token=None, last_error=""
    )
    cache.delete_many([unread_count_cache_key(d.recipient.user_id) for d in deliveries])


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
    except TransportError as error:
        _record_failure(delivery, attempt, error.reason, permanent=error.permanent, summary=summary)
        return
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:
        # A bug or an unexpected provider answer: counted as a temporary failure so it is
        # retried (and ends as "failed" with the reason), never silently dropped.
        logger.exception("delivery %d: unexpected error while sending", delivery.pk)
        _record_failure(
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
        provider_message_id=receipt.provider_message_id,
    )
    _finish(delivery, DeliveryStatus.SENT, provider_message_id=receipt.provider_message_id)
    if receipt.dead_device_ids:
        PushDevice.objects.filter(pk__in=receipt.dead_device_ids).update(active=False)
    summary.sent += 1
    summary.by_channel[delivery.channel] += 1


def _record_failure(
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
        _finish(delivery, DeliveryStatus.FAILED, error=reason)
        summary.failed += 1
        logger.error(
            "delivery %d (%s) failed after %d attempts: %s",
            delivery.pk,
            delivery.channel,
            delivery.attempts,
            reason,
        )


def _finish(
    delivery: Delivery, status: str, *, provider_message_id: str = "", error: str = ""
) -> None:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status,
        sent_at=timezone.now() if status == DeliveryStatus.SENT else None,
        provider_message_id=provider_message_id,
        claim_token=None,
        last_error=error,
    )


def send_email_digests(user_ids: Sequence[int]) -> DispatchSummary:
    """One email per user gathering their due digest deliveries."""
    now = timezone.now()
    summary = DispatchSummary()
    token = uuid.uuid4()
    claimed = Delivery.objects.filter(
        recipient__user_id__in=list(user_ids),
        channel=Channel.EMAIL,
        digest=True,
        status=DeliveryStatus.PENDING,
        not_before__lte=now,
    ).update(
        status=DeliveryStatus.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return summary
    deliveries = list(
        Delivery.objects.filter(claim_token=token)
        .select_related("recipient__notification", "recipient__user")
        .order_by("recipient__user_id", "recipient__notification__created_at")
    )
    summary.claimed = len(deliveries)
    by_user: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_user[delivery.recipient.user_id].append(delivery)
    preferences = preferences_for(by_user)
    overrides = TemplateOverrides.load(
        {d.recipient.notification.event for d in deliveries} | {"email_digest"}
    )
    with get_transport(Channel.EMAIL) as transport:
        for user_id, group in by_user.items():
            user = group[0].recipient.user
            if not preferences[user_id].email_notifications_enabled or not user.is_active:
                for delivery in group:
                    _finish(delivery, DeliveryStatus.SKIPPED, error="channel_disabled")
                summary.skipped += len(group)
                continue
            rendered = render_digest([d.recipient.notification for d in group], user, overrides)
            first = group[0]
            message = OutgoingMessage(
                delivery_id=first.pk,
                channel=Channel.EMAIL,
                to=user.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                idempotency_key=f"digest-{'-'.join(str(d.pk) for d in group[:20])}",
                language=user.preferred_language,
            )
            _send_group(transport, group, message, summary)
    return summary


def _send_group(
    transport: Transport, group: list[Delivery], message: OutgoingMessage, summary: DispatchSummary
) -> None:
    attempts = DeliveryAttempt.objects.bulk_create(
        [DeliveryAttempt(delivery=d, number=d.attempts) for d in group]
    )
    try:
        receipt = transport.send(message)
    except TransportError as error:
        for delivery, attempt in zip(group, attempts, strict=True):
            _record_failure(
                delivery, attempt, error.reason, permanent=error.permanent, summary=summary
            )
        return
    now = timezone.now()
    ids = [d.pk for d in group]
    DeliveryAttempt.objects.filter(delivery_id__in=ids, outcome=AttemptOutcome.STARTED).update(
        outcome=AttemptOutcome.SENT,
        finished_at=now,
        provider_message_id=receipt.provider_message_id,
    )
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT,
        sent_at=now,
        claim_token=None,
        last_error="",
        provider_message_id=receipt.provider_message_id,
    )
    summary.sent += len(group)
    summary.by_channel[Channel.EMAIL] += len(group)
