"""Recording a send: recipients and deliveries written in bulk, work enqueued after commit.

This is DESIGN.md's step 1 and 2. Every write is per batch of users, never per user, and
each batch costs the same handful of queries whatever its size. Nothing is sent here: the
workers claim the deliveries (``dispatch.py``) and the sweeper catches whatever a lost
broker message left behind (``outbox.py``).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from medguard_backend.batch_writers import ReadAhead
from notifications.delivery import outbox
from notifications.models import Channel, Notification, PushDevice
from notifications.policy.addresses import sms_reachable
from notifications.policy.decision_cache import DecisionCache, UserContact
from notifications.policy.decisions import Action, Decision, SkipReason
from notifications.policy.preferences import preferences_for, user_id_filter
from notifications.sending.writes import (
    DeliveryPlan,
    EncodedBatch,
    PlannedDelivery,
    RecipientRow,
    can_write_with_deliveries,
    encode_batch,
    insert_deliveries,
    insert_recipients,
    insert_recipients_with_deliveries,
)

if TYPE_CHECKING:
    from accounts.models import User

ALL_CHANNELS: tuple[str, ...] = tuple(Channel.values)
# An SMS address is a verified phone number (policy/addresses.py): both are read. The
# number's blind index stands for it: empty exactly when the number is, and read without
# decrypting (tens of microseconds a row, seconds for a 100,000-user broadcast).
USER_FIELDS = ("id", "email", "phone_index", "phone_verified", "timezone", "is_active")


@dataclass
class ChannelCounts:
    """What one send did on one channel."""

    queued: int = 0  # due now and handed to the workers
    deferred: int = 0  # recorded for later: quiet hours or the email digest
    skipped: int = 0  # not sent, with the reasons counted below
    skipped_reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "deferred": self.deferred,
            "skipped": self.skipped,
            "skipped_reasons": dict(self.skipped_reasons),
        }


@dataclass
class SendResult:
    """What ``NotificationService`` send methods return.

    ``recipients`` counts the users this call addressed; ``channels`` maps each channel
    asked for to its counts. A repeated send (same notification and user, or the same
    idempotency key) writes nothing and shows up as skipped with reason ``duplicate``.
    """

    notification: Notification | None
    recipients: int = 0
    channels: dict[str, ChannelCounts] = field(default_factory=dict)

    @property
    def queued(self) -> int:
        return sum(counts.queued for counts in self.channels.values())

    @property
    def deferred(self) -> int:
        return sum(counts.deferred for counts in self.channels.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification.pk if self.notification else None,
            "recipients": self.recipients,
            "channels": {name: counts.as_dict() for name, counts in self.channels.items()},
        }

    def merge(self, other: SendResult) -> None:
        self.recipients += other.recipients
        for name, counts in other.channels.items():
            mine = self.channels.setdefault(name, ChannelCounts())
            mine.queued += counts.queued
            mine.deferred += counts.deferred
            mine.skipped += counts.skipped
            mine.skipped_reasons.update(counts.skipped_reasons)


def validate_channels(channels: Iterable[str] | None) -> tuple[str, ...]:
    if channels is None:
        return ALL_CHANNELS
    if isinstance(channels, str):
        raise ValueError(f"channels must be a list of channel names, not the string {channels!r}")
    chosen = tuple(dict.fromkeys(channels))
    unknown = [name for name in chosen if name not in ALL_CHANNELS]
    if unknown:
        raise ValueError(f"unknown channel {unknown[0]!r}; choose from {', '.join(ALL_CHANNELS)}")
    return chosen


def _contact_of(user: User) -> UserContact:
    return UserContact(
        user.pk,
        bool(user.email),
        sms_reachable(user.phone, user.phone_verified),
        user.timezone,
        user.is_active,
    )


def user_batches(users: Iterable[User] | QuerySet[User], size: int) -> Iterator[list[UserContact]]:
    """Users in batches, reading a queryset by keyset pages so memory stays flat however
    many users it selects."""
    if isinstance(users, QuerySet):
        queryset = users.order_by("pk").values_list(*USER_FIELDS)
        last_pk = 0
        while True:
            rows = list(queryset.filter(pk__gt=last_pk)[:size])
            if not rows:
                return
            yield [
                UserContact(pk, bool(email), sms_reachable(phone, verified), tz, active)
                for pk, email, phone, verified, tz, active in rows
            ]
            last_pk = rows[-1][0]
    else:
        iterator = iter(users)
        while batch := list(itertools.islice(iterator, size)):
            yield [_contact_of(user) for user in batch]


class NotificationForUser(NamedTuple):
    """One notification for one user: what a batch writes a recipient row for."""

    notification_id: int
    notification_type: str
    priority: str
    created_at: datetime
    user: UserContact


def record_send(
    notification: Notification,
    users: Iterable[User] | QuerySet[User],
    channels: Sequence[str] | None,
    *,
    now: datetime | None = None,
) -> SendResult:
    """Write recipients and deliveries for ``users`` on ``channels`` (None: every channel,
    each user's preferences deciding), in one transaction; enqueue the due ones on commit."""
    chosen = validate_channels(channels)
    now = now or timezone.now()
    result = SendResult(notification, channels={name: ChannelCounts() for name in chosen})
    decisions = DecisionCache(now)

    def prepared() -> Iterator[PreparedBatch]:
        for batch in user_batches(users, settings.NOTIFICATION_WRITE_BATCH_SIZE):
            pairs = [
                NotificationForUser(
                    notification.pk,
                    notification.notification_type,
                    notification.priority,
                    notification.created_at,
                    user,
                )
                for user in batch
            ]
            yield prepare_batch(pairs, chosen, now, decisions, notification)

    # The next batch is read and decided (in a thread, on PostgreSQL) while this one is
    # written: all batches are written in this one transaction.
    with ReadAhead(prepared()) as batches, transaction.atomic():
        for batch in batches:
            result.merge(write_batch(batch, now))
    return result


@dataclass
class PreparedBatch:
    """A batch decided and encoded, not yet written: what ``prepare_batch`` hands to
    ``write_batch``, possibly from another thread (``record_send``)."""

    result: SendResult  # recipients and skips counted; the rest once written
    rows: list[tuple[RecipientRow, int]]  # each recipient row with its plan
    plans: list[Plan]
    uses: Counter[int]  # recipient rows per plan
    encoded: EncodedBatch | None  # PostgreSQL's statement input, ready


def prepare_batch(
    items: Sequence[NotificationForUser],
    channels: tuple[str, ...],
    now: datetime,
    decide_for: DecisionCache,
    notification: Notification | None = None,
) -> PreparedBatch:
    """Decide one batch of (notification, user) pairs and encode its rows: two reads
    (preferences, push devices), no writes."""
    result = SendResult(notification, channels={name: ChannelCounts() for name in channels})
    items = [item for item in items if item.user.is_active]
    if not items:
        return PreparedBatch(result, [], [], Counter(), None)
    user_ids = {item.user.id for item in items}
    preferences = preferences_for(user_ids)
    push_owners: set[int] = set()
    if Channel.PUSH in channels:
        push_owners = user_ids & set(
            PushDevice.objects.filter(active=True, **user_id_filter(user_ids))
            .values_list("user_id", flat=True)
            .distinct()
        )

    # Decide every (pair, channel) first: the in-app decision sets the recipient row's flag.
    # Users alike in what the policy reads share one plan, so most users cost a lookup.
    plans_by_kind: dict[tuple[object, ...], int] = {}
    plans: list[Plan] = []
    planned: list[tuple[NotificationForUser, int]] = []
    for item in items:
        user = item.user
        prefs = preferences[user.id]
        has_push = user.id in push_owners
        kind = (
            item.notification_type,
            item.priority,
            prefs.pk,
            user.timezone.key,
            user.has_email,
            user.has_phone,
            has_push,
        )
        index = plans_by_kind.get(kind)
        if index is None:
            addresses = {
                Channel.IN_APP: True,
                Channel.EMAIL: user.has_email,
                Channel.SMS: user.has_phone,
                Channel.PUSH: has_push,
            }
            decisions = [
                (
                    channel,
                    decide_for(
                        item.notification_type,
                        item.priority,
                        user,
                        prefs,
                        channel,
                        addresses[Channel(channel)],
                    ),
                )
                for channel in channels
            ]
            index = plans_by_kind[kind] = len(plans)
            plans.append(Plan.of(decisions))
        planned.append((item, index))
    result.recipients = len({(item.notification_id, item.user.id) for item, _ in planned})

    # What each plan skips (and, once written, wants) is counted per plan, not per user.
    uses = Counter(index for _, index in planned)
    for index, users in uses.items():
        for channel, reason in plans[index].skipped:
            counts = result.channels[channel]
            counts.skipped += users
            counts.skipped_reasons[reason] += users
    rows = [
        (
            RecipientRow(item.notification_id, item.user.id, plans[index].in_app, item.created_at),
            index,
        )
        for item, index in planned
    ]
    encoded = (
        encode_batch(rows, [plan.deliveries for plan in plans])
        if can_write_with_deliveries()
        else None
    )
    return PreparedBatch(result, rows, plans, uses, encoded)


def write_batch(prepared: PreparedBatch, now: datetime) -> SendResult:
    """Write a prepared batch: on PostgreSQL one statement for its recipients and their
    deliveries. Must run inside a transaction; the due deliveries are published on commit."""
    result, rows, plans = prepared.result, prepared.rows, prepared.plans
    if not rows:
        return result
    if prepared.encoded is not None:
        inserted, existing = insert_recipients_with_deliveries(prepared.encoded, now)
        if existing:
            # A repeated send: those users had their recipient row; add only the
            # deliveries they lack (a channel asked for this time), by the general path.
            inserted += _complete_existing(
                [(row, i) for row, i in rows if (row.notification_id, row.user_id) in existing],
                plans,
                now,
            )
    else:
        inserted = _complete_existing(rows, plans, now)

    wanted_per_channel: Counter[str] = Counter()
    for index, users in prepared.uses.items():
        for delivery in plans[index].deliveries:
            wanted_per_channel[delivery.channel] += users
    inserted_per_channel = Counter(channel for _, channel, _ in inserted)
    for channel, count in wanted_per_channel.items():
        duplicates = count - inserted_per_channel[channel]
        if duplicates:
            result.channels[channel].skipped += duplicates
            result.channels[channel].skipped_reasons[SkipReason.DUPLICATE] += duplicates
    due_ids: list[int] = []
    for delivery_id, channel, enqueued in inserted:
        if enqueued:
            result.channels[channel].queued += 1
            due_ids.append(delivery_id)
        else:
            result.channels[channel].deferred += 1
    if due_ids:
        transaction.on_commit(lambda: outbox.enqueue_deliveries(due_ids))
    return result


def record_batch(
    items: Sequence[NotificationForUser],
    channels: tuple[str, ...],
    now: datetime,
    decide_for: DecisionCache,
    notification: Notification | None = None,
) -> SendResult:
    """Recipients and deliveries for one batch of (notification, user) pairs, in a fixed
    number of queries: preferences, push devices, and one write (on PostgreSQL). Must run
    inside a transaction; the due deliveries are published on commit."""
    return write_batch(prepare_batch(items, channels, now, decide_for, notification), now)


@dataclass(frozen=True)
class Plan:
    """What a send does for users alike in what the policy reads: the recipient row's
    in-app flag, the deliveries to write, and the channels skipped (with why)."""

    in_app: bool
    deliveries: tuple[DeliveryPlan, ...]
    skipped: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, decisions: Sequence[tuple[str, Decision]]) -> Plan:
        return cls(
            in_app=any(c == Channel.IN_APP and d.action is Action.SEND for c, d in decisions),
            deliveries=tuple(
                DeliveryPlan(channel, d.not_before, d.digest, d.action is Action.SEND)
                for channel, d in decisions
                if d.action is not Action.SKIP
            ),
            skipped=tuple((c, d.reason) for c, d in decisions if d.action is Action.SKIP),
        )


def _complete_existing(
    rows: Sequence[tuple[RecipientRow, int]], plans: Sequence[Plan], now: datetime
) -> list[tuple[int, str, bool]]:
    """Recipients (inserted unless they exist) and then the deliveries they lack, in two
    statements: SQLite's path, and PostgreSQL's for the rows of a repeated send."""
    recipient_ids = insert_recipients([row for row, _ in rows])
    return insert_deliveries(
        [
            PlannedDelivery(
                recipient_id=recipient_ids[(row.notification_id, row.user_id)],
                channel=delivery.channel,
                not_before=delivery.not_before,
                digest=delivery.digest,
                enqueued_at=now if delivery.enqueued else None,
            )
            for row, index in rows
            for delivery in plans[index].deliveries
        ],
        now,
    )
