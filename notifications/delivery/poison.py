"""Poison messages: a delivery whose send kills its worker every time (a message that
crashes the process, a provider library that segfaults on it).

The sweeper takes back the claims of a dead worker (``outbox.reclaim_stuck``), and without
a limit it would hand such a batch out again every stuck timeout, forever, the healthy
deliveries in it never getting through. So each delivery counts how often it was taken
back from a dead worker (``Delivery.reclaims``), and how often the worker held it alone
(``reclaims_alone``):

1. after ``NOTIFICATION_MAX_RECLAIMS`` reclaims, it is no longer sent with others: the
   sweeper publishes it in a task of its own, and a claim holding it with other messages
   hands it back (``split_off_suspects``). The healthy deliveries of its batch go out;
2. once its worker has died ``NOTIFICATION_MAX_RECLAIMS`` times while holding it alone, it
   is failed for good, with ``POISONED`` as its reason (in the admin and the delivery
   report) and an error log line naming its id (``count_reclaims``).

"Alone" means that the dead worker's claim held no other message unfinished: sent in a task
of its own, or the last of its batch left (the ones before it went out). A digest gathers one
user's deliveries into one email, so a claim holding one user's digest holds one message.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db.models import Case, F, PositiveSmallIntegerField, When

from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.models.delivery import DeliveryQuerySet

logger = logging.getLogger(__name__)

POISONED = "not sent: its worker died every time it was sent (a poison message)"


class Held(NamedTuple):
    """A delivery as a claim holds it: enough to tell which message it belongs to."""

    id: int
    user_id: int
    digest: bool
    reclaims: int


def _message_of(held: Held) -> tuple[str, int]:
    return ("digest of user", held.user_id) if held.digest else ("delivery", held.id)


def is_suspect(reclaims: int) -> bool:
    """Taken back from dead workers often enough to be sent only alone from now on."""
    return reclaims >= settings.NOTIFICATION_MAX_RECLAIMS


def split_off_suspects(token: uuid.UUID, held: Sequence[Held]) -> set[int]:
    """Hand back the suspects of a claim that holds more than one message, for the sweeper
    to publish each alone (``outbox.sweep``); their ids. The claim keeps the rest.

    A batch published before the split (a task retried with its ids, an operator's resend)
    can still hold one; this is where the rule holds whoever published it."""
    if len({_message_of(h) for h in held}) < 2:
        return set()
    suspects = {h.id for h in held if is_suspect(h.reclaims)}
    if suspects:
        Delivery.objects.filter(
            pk__in=suspects, claim_token=token, status=DeliveryStatus.SENDING
        ).back_to_pending(refund_attempt=True)
        logger.warning(
            "%d deliveries handed back to be sent alone: their workers died sending them",
            len(suspects),
        )
    return suspects


def count_reclaims(returning: DeliveryQuerySet, now: datetime) -> int:
    """Count one more reclaim for each of ``returning`` (claims of dead workers, about to go
    back to pending), and fail for good those whose worker has now died
    ``NOTIFICATION_MAX_RECLAIMS`` times holding them alone. How many were failed.

    A constant number of statements whatever the number of deliveries (one more pair when
    any is failed)."""
    rows = list(
        returning.values_list("id", "claim_token", "recipient__user_id", "digest", "reclaims_alone")
    )
    if not rows:
        return 0
    messages_held: dict[uuid.UUID | None, set[tuple[str, int]]] = defaultdict(set)
    for pk, token, user_id, digest, _alone in rows:
        messages_held[token].add(_message_of(Held(pk, user_id, digest, 0)))
    alone = [row for row in rows if len(messages_held[row[1]]) == 1]
    Delivery.objects.filter(pk__in=[row[0] for row in rows]).update(
        reclaims=F("reclaims") + 1,
        reclaims_alone=Case(
            When(pk__in=[row[0] for row in alone], then=F("reclaims_alone") + 1),
            default=F("reclaims_alone"),
            output_field=PositiveSmallIntegerField(),
        ),
    )
    poisoned = [row[0] for row in alone if row[4] + 1 >= settings.NOTIFICATION_MAX_RECLAIMS]
    if poisoned:
        _fail(poisoned, now)
    return len(poisoned)


def _fail(delivery_ids: Iterable[int], now: datetime) -> None:
    ids = list(delivery_ids)
    DeliveryAttempt.objects.filter(delivery_id__in=ids, outcome=AttemptOutcome.STARTED).update(
        outcome=AttemptOutcome.PERMANENT_FAILURE, finished_at=now, error=POISONED
    )
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED, claim_token=None, last_error=POISONED
    )
    for delivery_id in ids:
        logger.error(
            "delivery %d failed for good: its worker died each of the %d times it was sent alone",
            delivery_id,
            settings.NOTIFICATION_MAX_RECLAIMS,
        )
