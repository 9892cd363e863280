"""Set-based writes of recipients and deliveries, one statement per batch.

On PostgreSQL a batch is one statement (``insert_recipients_with_deliveries``): recipients
are inserted from one JSON document with ``ON CONFLICT DO NOTHING RETURNING``, and in the
same statement their deliveries, joined from the few delivery plans the batch's users
share, so Python never handles a delivery row going in. One round trip that plans once and
skips repeats (the unique keys make a re-run send harmless), within reach of COPY's speed.
The rows travel as JSON because json.dumps is C, while psycopg's client-side adaptation of
large arrays costs more than the insert itself. Other databases (SQLite, the
embedded default) take Django's ``bulk_create``, which splits a batch into several
statements by the database's parameter limit — still a fixed number per batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import connection

from notifications.models import Delivery, DeliveryStatus, NotificationRecipient, RecipientStatus


class PlannedDelivery(NamedTuple):
    # A tuple, not a dataclass: a slot builds 200,000 of them.
    recipient_id: int
    channel: str
    not_before: datetime
    digest: bool
    enqueued_at: datetime | None


def _postgres() -> bool:
    return connection.vendor == "postgresql"


class _Timestamps:
    """ISO text of the datetimes of one batch, each formatted once: the rows share a
    handful of datetime objects (the send time, a quiet-hours end), and isoformat costs 25
    times a lookup. Keyed by identity (cheaper than hashing an aware datetime); the value
    is held, so its id cannot be reused while this lives."""

    def __init__(self) -> None:
        self._text: dict[int, tuple[datetime, str]] = {}

    def __call__(self, value: datetime) -> str:
        known = self._text.get(id(value))
        if known is None:
            known = self._text[id(value)] = (value, value.isoformat())
        return known[1]


class RecipientRow(NamedTuple):
    notification_id: int
    user_id: int
    in_app: bool
    created_at: datetime


class DeliveryPlan(NamedTuple):
    """One delivery a plan makes for each recipient that has it."""

    channel: str
    not_before: datetime
    digest: bool
    enqueued: bool  # due now: marked enqueued in the same write, published after commit


def can_write_with_deliveries() -> bool:
    return _postgres()


class EncodedBatch(NamedTuple):
    """A batch's recipient rows and delivery plans as the JSON documents the statement
    takes (encoded ahead, possibly in another thread: see ``fanout``)."""

    rows: str
    plans: str


def encode_batch(
    rows: Sequence[tuple[RecipientRow, int]], plans: Sequence[Sequence[DeliveryPlan]]
) -> EncodedBatch:
    """``rows``: each recipient row with its plan, an index into ``plans``."""
    iso = _Timestamps()
    return EncodedBatch(
        rows=json.dumps(
            [
                {
                    "n": row.notification_id,
                    "u": row.user_id,
                    "a": row.in_app,
                    "c": iso(row.created_at),
                    "p": plan,
                }
                for row, plan in rows
            ]
        ),
        plans=json.dumps(
            [
                {
                    "p": index,
                    "channel": delivery.channel,
                    "not_before": iso(delivery.not_before),
                    "digest": delivery.digest,
                    "enqueued": delivery.enqueued,
                }
                for index, plan in enumerate(plans)
                for delivery in plan
            ]
        ),
    )


def insert_recipients_with_deliveries(
    batch: EncodedBatch, now: datetime
) -> tuple[list[tuple[int, str, bool]], set[tuple[int, int]]]:
    """PostgreSQL: insert the recipient rows, each with the deliveries of its plan, in one
    statement. Returns the deliveries inserted, as (id, channel, enqueued), and the
    (notification_id, user_id) pairs that had a recipient row already: nothing is written
    for those (the caller completes them, see ``fanout``)."""
    recipients, deliveries = NotificationRecipient._meta.db_table, Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH input AS (
                SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
                    AS t(n bigint, u bigint, a boolean, c timestamptz, p int)
            ), plans AS (
                SELECT * FROM jsonb_to_recordset(%(plans)s::jsonb)
                    AS t(p int, channel text, not_before timestamptz, digest boolean,
                         enqueued boolean)
            ), r AS (
                INSERT INTO {recipients} (notification_id, user_id, status, in_app, created_at)
                SELECT n, u, %(unread)s, a, c FROM input
                ON CONFLICT (notification_id, user_id) DO NOTHING
                RETURNING id, notification_id, user_id
            ), d AS (
                INSERT INTO {deliveries}
                    (recipient_id, channel, not_before, digest, enqueued_at, status, attempts,
                     provider_message_id, last_error, created_at, updated_at)
                SELECT r.id, plans.channel, plans.not_before, plans.digest,
                       CASE WHEN plans.enqueued THEN %(now)s::timestamptz END, %(pending)s, 0,
                       '', '', %(now)s, %(now)s
                FROM r JOIN input ON input.n = r.notification_id AND input.u = r.user_id
                JOIN plans ON plans.p = input.p
                ON CONFLICT (recipient_id, channel) DO NOTHING
                RETURNING id, channel, enqueued_at IS NOT NULL AS enqueued
            )
            SELECT id, channel, enqueued, NULL, NULL FROM d
            UNION ALL
            SELECT NULL, NULL, NULL, n, u FROM input
            WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.notification_id = n AND r.user_id = u)
            """,  # noqa: S608 - the table names come from model metadata, values are bound
            {
                "rows": batch.rows,
                "plans": batch.plans,
                "unread": RecipientStatus.UNREAD,
                "pending": DeliveryStatus.PENDING,
                "now": now,
            },
        )
        inserted: list[tuple[int, str, bool]] = []
        existing: set[tuple[int, int]] = set()
        for delivery_id, channel, enqueued, notification_id, user_id in cursor.fetchall():
            if delivery_id is None:
                existing.add((notification_id, user_id))
            else:
                inserted.append((delivery_id, channel, enqueued))
    return inserted, existing


def insert_recipients(rows: Sequence[RecipientRow]) -> dict[tuple[int, int], int]:
    """Insert recipient rows, skipping (notification, user) pairs that exist; return
    {(notification_id, user_id): recipient_id} for every pair in ``rows``, new or not."""
    if not rows:
        return {}
    if _postgres():
        table = NotificationRecipient._meta.db_table
        iso = _Timestamps()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (notification_id, user_id, status, in_app, created_at)
                SELECT notification_id, user_id, %s, in_app, created_at
                FROM jsonb_to_recordset(%s::jsonb)
                    AS t(notification_id bigint, user_id bigint, in_app boolean,
                         created_at timestamptz)
                ON CONFLICT (notification_id, user_id) DO NOTHING
                RETURNING notification_id, user_id, id
                """,  # noqa: S608 - the table name comes from model metadata, values are bound
                [
                    RecipientStatus.UNREAD,
                    json.dumps(
                        [
                            {
                                "notification_id": row.notification_id,
                                "user_id": row.user_id,
                                "in_app": row.in_app,
                                "created_at": iso(row.created_at),
                            }
                            for row in rows
                        ]
                    ),
                ],
            )
            found = {(n, u): pk for n, u, pk in cursor.fetchall()}
        # Rows that were there already (a repeated send) are looked up apart, through the
        # unique index: joining the batch back in the same statement lets the planner pick
        # a scan of the whole table while it grows inside the send's transaction.
        if len(found) < len(rows):
            missing = {(row.notification_id, row.user_id) for row in rows} - found.keys()
            if missing:
                found |= _existing_recipients(missing)
        return found
    NotificationRecipient.objects.bulk_create(
        [
            NotificationRecipient(
                notification_id=row.notification_id,
                user_id=row.user_id,
                in_app=row.in_app,
                created_at=row.created_at,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )
    return _existing_recipients({(row.notification_id, row.user_id) for row in rows})


def _existing_recipients(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    rows = NotificationRecipient.objects.filter(
        notification_id__in={n for n, _ in pairs}, user_id__in={u for _, u in pairs}
    ).values_list("notification_id", "user_id", "id")
    return {(n, u): pk for n, u, pk in rows if (n, u) in pairs}


def insert_deliveries(
    planned: Sequence[PlannedDelivery], now: datetime
) -> list[tuple[int, str, bool]]:
    """Insert the planned deliveries, skipping (recipient, channel) pairs that exist; return
    (id, channel, enqueued) for the rows actually inserted."""
    if not planned:
        return []
    if _postgres():
        iso = _Timestamps()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Delivery._meta.db_table}
                    (recipient_id, channel, not_before, digest, enqueued_at, status, attempts,
                     provider_message_id, last_error, created_at, updated_at)
                SELECT recipient_id, channel, not_before, digest, enqueued_at, %s, 0, '', '',
                       %s, %s
                FROM jsonb_to_recordset(%s::jsonb)
                    AS t(recipient_id bigint, channel text, not_before timestamptz,
                         digest boolean, enqueued_at timestamptz)
                ON CONFLICT (recipient_id, channel) DO NOTHING
                RETURNING id, channel, enqueued_at IS NOT NULL
                """,  # noqa: S608 - the table name comes from model metadata, values are bound
                [
                    DeliveryStatus.PENDING,
                    now,
                    now,
                    json.dumps(
                        [
                            {
                                "recipient_id": p.recipient_id,
                                "channel": p.channel,
                                "not_before": iso(p.not_before),
                                "digest": p.digest,
                                "enqueued_at": p.enqueued_at and iso(p.enqueued_at),
                            }
                            for p in planned
                        ]
                    ),
                ],
            )
            return [(row[0], row[1], bool(row[2])) for row in cursor.fetchall()]
    existing = set(
        Delivery.objects.filter(recipient_id__in={p.recipient_id for p in planned}).values_list(
            "recipient_id", "channel"
        )
    )
    fresh = [p for p in planned if (p.recipient_id, p.channel) not in existing]
    Delivery.objects.bulk_create(
        [
            Delivery(
                recipient_id=p.recipient_id,
                channel=p.channel,
                not_before=p.not_before,
                digest=p.digest,
                enqueued_at=p.enqueued_at,
                created_at=now,
            )
            for p in fresh
        ],
        ignore_conflicts=True,
    )
    inserted = Delivery.objects.filter(
        recipient_id__in={p.recipient_id for p in fresh}, created_at=now
    ).values_list("id", "channel", "enqueued_at")
    return [(pk, channel, enqueued_at is not None) for pk, channel, enqueued_at in inserted]
