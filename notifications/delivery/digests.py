"""The email digest: one message per user gathering the emails they chose to receive at
their email time (morning, afternoon, evening or their own), sent when the sweeper finds
them due.

Digest deliveries take the same path as every other delivery: claimed under a token
(``claims.claim``), decided again with today's preferences (``dispatch.decide_claimed``:
a category switched off or quiet hours added since they were deferred count), sent with
attempts committed first and the outcome recorded by ``dispatch.send_one``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils import timezone

from notifications.channels import OutgoingMessage, get_transport
from notifications.delivery import claims
from notifications.delivery.dispatch import (
    InFlight,
    decide_claimed,
    released_on_failure,
    send_one,
)
from notifications.delivery.outcomes import DispatchSummary
from notifications.models import Channel, Delivery
from notifications.policy.preferences import preferences_for
from notifications.rendering.messages import TemplateOverrides, render_digest


def send_email_digests(user_ids: Sequence[int], *, retry_in: float = 5) -> DispatchSummary:
    """One email per user gathering their due digest deliveries."""
    now = timezone.now()
    summary = DispatchSummary()
    flight = InFlight()
    with released_on_failure("send_email_digests", flight, summary, retry_in):
        due = Delivery.objects.filter(
            recipient__user_id__in=list(user_ids), channel=Channel.EMAIL, digest=True
        )
        claimed = claims.claim(flight.token, due, now)
        summary.claimed = len(claimed)
        if claimed:
            _send_claimed(flight, claimed, summary)
    return summary


def _send_claimed(
    flight: InFlight, claimed: list[claims.Claimed], summary: DispatchSummary
) -> None:
    now = timezone.now()
    preferences = preferences_for({c.user.id for c in claimed})
    to_send = decide_claimed(
        claimed, now, flight.token, preferences, set(), summary, digest_due=True
    )
    ids = [c.id for c in to_send.get(Channel.EMAIL, [])]
    if not ids:
        return
    deliveries = list(
        Delivery.objects.filter(id__in=ids)
        .select_related("recipient__notification", "recipient__user")
        .order_by("recipient__user_id", "recipient__notification__created_at", "id")
    )
    by_user: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_user[delivery.recipient.user_id].append(delivery)
    overrides = TemplateOverrides.load(
        {d.recipient.notification.event for d in deliveries} | {"email_digest"}
    )
    with get_transport(Channel.EMAIL) as transport:
        for group in by_user.values():
            user = group[0].recipient.user
            rendered = render_digest([d.recipient.notification for d in group], user, overrides)
            message = OutgoingMessage(
                delivery_id=group[0].pk,
                channel=Channel.EMAIL,
                to=user.email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                idempotency_key=f"digest-{'-'.join(str(d.pk) for d in group[:20])}",
                language=user.preferred_language,
            )
            send_one(transport, group, message, summary, flight)
