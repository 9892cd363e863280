"""The email digest: one message per user gathering the emails they chose to receive at
their email time (morning, afternoon, evening or their own), sent when the sweeper finds
them due."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F
from django.utils import timezone

from notifications.channels import OutgoingMessage, Transport, TransportError, get_transport
from notifications.delivery.dispatch import DispatchSummary, finish, record_failure
from notifications.models import AttemptOutcome, Channel, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.policy.decisions import SkipReason, may_name_medication
from notifications.policy.preferences import preferences_for
from notifications.rendering.messages import TemplateOverrides, render_digest


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
            prefs = preferences[user_id]
            # Consent withdrawn while the digest waited (privacy/): absolute, as in decide().
            consented = prefs.channel_consented(Channel.EMAIL)
            if not consented or not prefs.email_notifications_enabled or not user.is_active:
                reason = "channel_disabled" if consented else SkipReason.NO_CONSENT
                for delivery in group:
                    finish(delivery.pk, DeliveryStatus.SKIPPED, error=reason)
                summary.skipped += len(group)
                continue
            rendered = render_digest(
                [d.recipient.notification for d in group],
                user,
                overrides,
                show_medication_name=may_name_medication(Channel.EMAIL, prefs),
            )
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
            record_failure(
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
