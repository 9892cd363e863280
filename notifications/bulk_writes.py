"""Set-based writes of recipients and deliveries, one statement per batch.

On PostgreSQL each batch is one ``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO
NOTHING RETURNING``: a single round trip that plans once and skips repeats (the unique keys
make a re-run send harmless), within reach of COPY's speed. Other databases (SQLite, the
embedded default) take Django's ``bulk_create``, which splits a batch into several
statements by the database's parameter limit — still a fixed number per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from .models import Delivery, DeliveryStatus, NotificationRecipient, RecipientStatus


@dataclass(frozen=True)
class PlannedDelivery:
    recipient_id: int
    channel: str
    not_before: datetime
    digest: bool
    enqueued_at: datetime | None


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def insert_recipients(
    notification_id: int,
    created_at: datetime,
    rows: Sequence[tuple[int, bool]],
) -> dict[int, int]:
    """Insert (user_id, in_app) rows, skipping users who already have one; return
    {user_id: recipient_id} for every user in ``rows``, new or not."""
    user_ids = [user_id for user_id, _ in rows]
    if _postgres():
        with connection.cursor() as cursor:
            # The outer SELECT sees the table as it was before the INSERT (one snapshot),
            # so its second half returns exactly the rows that were already there.
            cursor.execute(
                f"""
                WITH input AS (
                    SELECT * FROM unnest(%s::bigint[], %s::boolean[]) AS t(user_id, in_app)
                ), inserted AS (
                    INSERT INTO {NotificationRecipient._meta.db_table}
                        (notification_id, user_id, status, in_app, created_at)
                    SELECT %s, user_id, %s, in_app, %s FROM input
                    ON CONFLICT (notification_id, user_id) DO NOTHING
                    RETURNING user_id, id
                )
                SELECT user_id, id FROM inserted
                UNION ALL
                SELECT r.user_id, r.id FROM {NotificationRecipient._meta.db_table} r
                WHERE r.notification_id = %s AND r.user_id = ANY(%s::bigint[])
                """,  # noqa: S608 - table names come from model metadata, values are bound
                [
                    user_ids,
                    [in_app for _, in_app in rows],
                    notification_id,
                    RecipientStatus.UNREAD,
                    created_at,
                    notification_id,
                    user_ids,
                ],
            )
            return dict(cursor.fetchall())
    NotificationRecipient.objects.bulk_create(
        [
            NotificationRecipient(
                notification_id=notification_id,
                user_id=user_id,
                in_app=in_app,
                created_at=created_at,
            )
            for user_id, in_app in rows
        ],
        ignore_conflicts=True,
    )
    return dict(
        NotificationRecipient.objects.filter(
            notification_id=notification_id, user_id__in=user_ids
        ).values_list("user_id", "id")
    )


def insert_deliveries(
    planned: Sequence[PlannedDelivery], now: datetime
) -> list[tuple[int, str, bool]]:
    """Insert the planned deliveries, skipping (recipient, channel) pairs that exist; return
    (id, channel, enqueued) for the rows actually inserted."""
    if not planned:
        return []
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Delivery._meta.db_table}
                    (recipient_id, channel, not_before, digest, enqueued_at, status, attempts,
                     provider_message_id, last_error, created_at, updated_at)
                SELECT recipient_id, channel, not_before, digest, enqueued_at, %s, 0, '', '',
                       %s, %s
                FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::boolean[],
                            %s::timestamptz[])
                    AS t(recipient_id, channel, not_before, digest, enqueued_at)
                ON CONFLICT (recipient_id, channel) DO NOTHING
                RETURNING id, channel, enqueued_at IS NOT NULL
                """,  # noqa: S608 - the table name comes from model metadata, values are bound
                [
                    DeliveryStatus.PENDING,
                    now,
                    now,
                    [p.recipient_id for p in planned],
                    [p.channel for p in planned],
                    [p.not_before for p in planned],
                    [p.digest for p in planned],
                    [p.enqueued_at for p in planned],
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
