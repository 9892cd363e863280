"""Claiming deliveries for one task, and giving claims back.

A claim is one conditional update (only rows still pending and due) that stamps the rows
with a token of the task's own, so two workers given the same ids — a redelivered message,
a sweep racing the on-commit hook — never send one delivery twice, and the task can find
its rows again by the token even when the read after the claim failed.

Claims end in one of three ways: the send's outcome is recorded (``outcomes.py``); the task
fails and hands its claim back at once (``release``); or the worker died, and the sweeper
settles the claim once it is older than ``NOTIFICATION_STUCK_AFTER_SECONDS``
(``settle_claims``, called by ``outbox.reclaim_stuck``). Settling decides from the attempts,
never from the delivery row alone: a delivery whose attempt for this claim says ``sent`` is
finished as sent, not sent again. A delivery that keeps killing its worker is sent alone,
then failed (``poison.py``).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import Error as DatabaseError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from notifications.delivery import poison
from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.models.delivery import DeliveryQuerySet
from notifications.policy.addresses import sms_reachable
from notifications.policy.decision_cache import UserContact
from notifications.receipts.outcomes import record_push_results

logger = logging.getLogger(__name__)


class Claimed(NamedTuple):
    """What deciding about a claimed delivery needs, read as a tuple: building three model
    instances per delivery would cost more than sending an in-app one."""

    id: int
    channel: str
    user: UserContact
    notification_type: str
    priority: str


CLAIMED_FIELDS = (
    "id",
    "channel",
    "recipient__user_id",
    "recipient__user__email",
    # The number's blind index: whether there is one, without decrypting it (dispatch
    # reads the number itself for the SMS it sends).
    "recipient__user__phone_index",
    "recipient__user__phone_verified",
    "recipient__user__timezone",
    "recipient__user__is_active",
    "recipient__notification__notification_type",
    "recipient__notification__priority",
)
# After CLAIMED_FIELDS, the rest of what ``poison.Held`` needs.
HELD_FIELDS = ("digest", "reclaims")


def claim(token: uuid.UUID, due: QuerySet[Delivery], now: datetime) -> list[Claimed]:
    """Take the deliveries of ``due`` that are still pending and due, under ``token``.
    One that killed its workers before is not taken with other messages
    (``poison.split_off_suspects``)."""
    claimed = due.filter(status=DeliveryStatus.PENDING, not_before__lte=now).update(
        status=DeliveryStatus.SENDING,
        claim_token=token,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return []
    rows = list(claimed_by(token).order_by("id").values_list(*CLAIMED_FIELDS, *HELD_FIELDS))
    handed_back = poison.split_off_suspects(
        token, [poison.Held(row[0], row[2], *row[len(CLAIMED_FIELDS) :]) for row in rows]
    )
    return [
        Claimed(
            pk,
            channel,
            UserContact(user_id, bool(email), sms_reachable(phone, verified), tz, active),
            kind,
            prio,
        )
        for pk, channel, user_id, email, phone, verified, tz, active, kind, prio, *_held in rows
        if pk not in handed_back
    ]


def claimed_by(token: uuid.UUID) -> QuerySet[Delivery]:
    return Delivery.objects.filter(claim_token=token, status=DeliveryStatus.SENDING)


class Accepted(NamedTuple):
    """A message the provider accepted whose outcome is not committed yet."""

    attempt_ids: tuple[int, ...]
    provider_message_id: str
    # Expo's tickets for it, (delivery id, device id, ticket id): stored with the outcome,
    # by a failing task's release too, so that its receipts are still asked for.
    push_tickets: tuple[tuple[int, int, str], ...] = ()


class Unanswered(NamedTuple):
    """A message whose request went out with no answer, its outcome not committed yet."""

    attempt_ids: tuple[int, ...]
    provider: str
    reason: str


@dataclass
class Settled:
    sent: int = 0  # the attempt said sent: finished as sent, not sent again
    unknown: int = 0  # the attempt had no answer: waits as unknown, never sent blindly again
    returned: int = 0  # back to pending
    poisoned: int = 0  # failed for good: its worker died every time it was sent alone

    @property
    def total(self) -> int:
        return self.sent + self.unknown + self.returned + self.poisoned


def settle_claims(
    claims: DeliveryQuerySet,
    *,
    reason: str,
    not_before: datetime | None,
    now: datetime,
    refund_untried: bool,
    worker_died: bool = False,
) -> Settled:
    """End claims whose task will not finish them, deciding each from its attempt.

    - The attempt of this claim says sent: the provider has the message, so the delivery
      is finished as sent with the attempt's provider id and time.
    - The attempt says unknown (the request went out, no answer came): the delivery waits
      as unknown for a receipt or the reconciler, as when the outcome was recorded at once.
    - The attempt is still ``started``: the send was interrupted; the attempt is closed as a
      temporary failure with ``reason`` and the delivery goes back to pending. If the
      provider had in fact accepted it, the resend carries the same idempotency key (an
      email the same Message-ID): the one duplicate window left (README, "Exactly once").
    Those returned are due at ``not_before`` (None: when they were due before).

    - No attempt: never tried; back to pending, with the attempt given back when
      ``refund_untried`` (a failed task), kept when not (a dead worker).

    ``worker_died``: the claims' worker is gone (the sweeper's case, not a task that failed
    and released them): each delivery not sent counts a reclaim, and one that has killed
    its worker too often is failed for good instead (``poison.count_reclaims``).
    """
    claims = claims.filter(status=DeliveryStatus.SENDING)
    this_claims_attempt = DeliveryAttempt.objects.filter(
        delivery=OuterRef("pk"), number=OuterRef("attempts")
    )
    sent_attempt = this_claims_attempt.filter(outcome=AttemptOutcome.SENT).order_by("-pk")
    settled = Settled()
    with transaction.atomic():
        settled.sent = claims.filter(Exists(sent_attempt)).update(
            status=DeliveryStatus.SENT,
            sent_at=Subquery(sent_attempt.values("finished_at")[:1]),
            provider_message_id=Subquery(sent_attempt.values("provider_message_id")[:1]),
            claim_token=None,
            last_error="",
        )
        unknown_attempt = this_claims_attempt.filter(outcome=AttemptOutcome.UNKNOWN)
        settled.unknown = claims.filter(Exists(unknown_attempt)).update(
            status=DeliveryStatus.UNKNOWN,
            provider=Subquery(unknown_attempt.values("provider")[:1]),
            last_error=Subquery(unknown_attempt.values("error")[:1]),
            claimed_at=now,  # when the reconciler starts counting
            claim_token=None,
        )
        if worker_died:
            settled.poisoned = poison.count_reclaims(claims, now)
        DeliveryAttempt.objects.filter(
            delivery__in=claims.values("pk"), outcome=AttemptOutcome.STARTED
        ).update(outcome=AttemptOutcome.TEMPORARY_FAILURE, finished_at=now, error=reason)
        settled.returned = claims.filter(Exists(this_claims_attempt)).back_to_pending(
            not_before=not_before, last_error=reason
        )
        settled.returned += claims.back_to_pending(
            not_before=not_before, last_error=reason, refund_attempt=refund_untried
        )
    return settled


def record_unanswered(unanswered: Mapping[int, Unanswered], now: datetime) -> None:
    """Mark as unknown the attempts whose request went out with no answer before the task
    failed: returned to pending they would be sent again blindly."""
    for found in unanswered.values():
        DeliveryAttempt.objects.filter(pk__in=found.attempt_ids).update(
            outcome=AttemptOutcome.UNKNOWN,
            finished_at=now,
            provider=found.provider,
            error=found.reason,
        )


def record_accepted(accepted: Mapping[int, Accepted], now: datetime) -> None:
    """Mark as sent the attempts of messages the provider accepted before the task failed:
    the task knows, in memory, what the database could not be told."""
    for found in accepted.values():
        DeliveryAttempt.objects.filter(pk__in=found.attempt_ids).update(
            outcome=AttemptOutcome.SENT,
            finished_at=now,
            provider_message_id=found.provider_message_id,
        )
    tickets = [ticket for found in accepted.values() for ticket in found.push_tickets]
    if tickets:
        record_push_results(tickets, ())


# A dropped connection usually comes back within a second or two (a failover, a restart).
RELEASE_TRIES = (0.0, 0.5, 1.0, 2.0)


def release(
    token: uuid.UUID,
    accepted: Mapping[int, Accepted],
    *,
    reason: str,
    retry_in: float,
    unanswered: Mapping[int, Unanswered] | None = None,
) -> Settled:
    """Hand back what the task claimed under ``token`` and did not finish, due again in
    ``retry_in`` seconds; what the provider accepted is recorded as sent, what went out
    with no answer as unknown.

    Called when the task cannot go on (a database or broker error, the soft time limit).
    The database may be what failed, so the connection is reopened and the release tried a
    few times; if it still fails, the sweeper settles the claim after the stuck timeout.
    """
    for pause in RELEASE_TRIES:
        time.sleep(pause)
        _forget_broken_connection()
        now = timezone.now()
        try:
            with transaction.atomic():
                record_accepted(accepted, now)
                record_unanswered(unanswered or {}, now)
                settled = settle_claims(
                    Delivery.objects.filter(claim_token=token),
                    reason=reason,
                    not_before=now + timedelta(seconds=retry_in),
                    now=now,
                    refund_untried=True,
                )
        except DatabaseError as error:
            logger.warning("releasing claim %s failed (%s)", token, type(error).__name__)
            continue
        logger.warning(
            "claim %s released (%s): %d back to pending in %.0fs, %d recorded as sent",
            token,
            reason,
            settled.returned,
            retry_in,
            settled.sent,
        )
        return settled
    logger.error("claim %s not released; the outbox sweeper will reclaim it", token)
    return Settled()


def _forget_broken_connection() -> None:
    """Close this thread's connection if it is broken, so the next query opens a new one.
    Inside a transaction (a test's) it is left alone."""
    if connection.in_atomic_block:
        return
    with contextlib.suppress(DatabaseError):
        connection.close_if_unusable_or_obsolete()
    if connection.connection is not None and not connection.is_usable():
        with contextlib.suppress(DatabaseError):
            connection.close()
