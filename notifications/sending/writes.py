"""Set-based writes of recipients and deliveries, one statement per batch.

On PostgreSQL a batch is one statement (``insert_recipients_with_deliveries``): recipients
are inserted from one JSON document with ``ON CONFLICT DO NOTHING RETURNING``, and in the
same statement their deliveries, joined from the few delivery plans the batch's users
share, so Python never handles a delivery row going in. One round trip that plans once and
skips repeats (the unique keys make a re-run send harmless), within reach of COPY's speed.
The rows travel as JSON because json.dumps is C, while psycopg's client-side adaptation of
large arrays costs more than the insert itself.

SQLite (the embedded default) cannot insert in a CTE, so it takes two statements:
recipients, then deliveries (``insert_recipients``, ``insert_deliveries``), which are also
PostgreSQL's path for the rows of a repeated send. Both are ``INSERT ... RETURNING`` on
both engines (``medguard_backend.row_inserts``): the rows a statement returns are the rows
it inserted, and the column lists and defaults come from the models' metadata.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import connection

from medguard_backend.row_inserts import RowInsert, Timestamps, insert_rows
from notifications.models import Delivery, NotificationRecipient, RecipientStatus


class PlannedDelivery(NamedTuple):
    # A tuple, not a dataclass: a slot builds 200,000 of them.
    recipient_id: int
    channel: str
    not_before: datetime
    digest: bool
    enqueued_at: datetime | None


def _postgres() -> bool:
    return connection.vendor == "postgresql"


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
    iso = Timestamps()
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
    recipients = RowInsert(
        NotificationRecipient,
        ("notification", "user", "in_app", "created_at"),
        now=now,
        prefix="r_",
        status=RecipientStatus.UNREAD,
    )
    deliveries = RowInsert(
        Delivery,
        ("recipient", "channel", "not_before", "digest", "enqueued_at"),
        now=now,
        prefix="d_",
        created_at=now,
    )
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
                INSERT INTO {recipients.target}
                SELECT {recipients.select(["n", "u", "a", "c"])} FROM input
                ON CONFLICT (notification_id, user_id) DO NOTHING
                RETURNING id, notification_id, user_id
            ), d AS (
                INSERT INTO {deliveries.target}
                SELECT {
                deliveries.select(
                    [
                        "r.id",
                        "plans.channel",
                        "plans.not_before",
                        "plans.digest",
                        "CASE WHEN plans.enqueued THEN %(now)s::timestamptz END",
                    ]
                )
            }
                FROM r JOIN input ON input.n = r.notification_id AND input.u = r.user_id
                JOIN plans ON plans.p = input.p
                ON CONFLICT (recipient_id, channel) DO NOTHING
                RETURNING id, channel, enqueued_at IS NOT NULL AS enqueued
            )
            SELECT id, channel, enqueued, NULL, NULL FROM d
            UNION ALL
            SELECT NULL, NULL, NULL, n, u FROM input
            WHERE NOT EXISTS (SELECT 1 FROM r WHERE r.notification_id = n AND r.user_id = u)
            """,  # noqa: S608 - the names come from model metadata, values are bound
            {
                "rows": batch.rows,
                "plans": batch.plans,
                "now": now,
                **recipients.params,
                **deliveries.params,
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
    iso = Timestamps()
    found = {
        (n, u): pk
        for n, u, pk in insert_rows(
            RowInsert(
                NotificationRecipient,
                ("notification", "user", "in_app", "created_at"),
                status=RecipientStatus.UNREAD,
            ),
            (
                {
                    "notification_id": row.notification_id,
                    "user_id": row.user_id,
                    "in_app": row.in_app,
                    "created_at": iso(row.created_at),
                }
                for row in rows
            ),
            unique=("notification_id", "user_id"),
            returning=("notification_id", "user_id", "id"),
        )
    }
    # Rows that were there already (a repeated send) are looked up apart, through the
    # unique index: joining the batch back in the same statement lets the planner pick a
    # scan of the whole table while it grows inside the send's transaction.
    if len(found) < len(rows):
        missing = {(row.notification_id, row.user_id) for row in rows} - found.keys()
        if missing:
            found |= _existing_recipients(missing)
    return found


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
    iso = Timestamps()
    inserted = insert_rows(
        RowInsert(
            Delivery,
            ("recipient", "channel", "not_before", "digest", "enqueued_at"),
            now=now,
            created_at=now,
        ),
        (
            {
                "recipient_id": p.recipient_id,
                "channel": p.channel,
                "not_before": iso(p.not_before),
                "digest": p.digest,
                "enqueued_at": p.enqueued_at and iso(p.enqueued_at),
            }
            for p in planned
        ),
        unique=("recipient_id", "channel"),
        # The column itself, tested here: SQLite 3.40 answers "enqueued_at IS NOT NULL" in
        # a RETURNING clause wrongly (true for a NULL).
        returning=("id", "channel", "enqueued_at"),
    )
    return [(pk, channel, enqueued_at is not None) for pk, channel, enqueued_at in inserted]
