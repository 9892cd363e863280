"""A send batch's outcomes written in two statements, whatever the batch's size.

Each ``Transition`` is one delivery leaving ``sending`` because of one attempt: sent,
back to pending for a retry, failed, or unknown. ``write`` records them all in one
transaction: one UPDATE of the attempts and one UPDATE of the deliveries, each reading
its rows from one JSON document (``jsonb_to_recordset`` on PostgreSQL, ``json_each`` on
SQLite, as ``medguard_backend.row_inserts`` does for INSERTs). Every delivery row is still
changed only where it is claimed by this task's token and still ``sending`` (issue 10's
guarded transition), so a claim the sweeper settled meanwhile is left as it was.

What it buys, measured on PostgreSQL on the shared 2-core machine (2026-11-30, load average
about 2): a 500-SMS batch refused by the gateway (every delivery retried) is recorded in 19 ms
and 4 queries, against 339-353 ms and 503 queries with one UPDATE per delivery as before
(the same script run on both trees, back to back). A batch the provider takes whole costs
what ``executemany`` did: `dev.py bench channels` 1.7-2.0 ms of worker CPU per SMS on both,
and `dev.py bench scale` (100,000 patients, one worker) 182 s against 192 s, within the
noise (bench/SCALE.md). Django's CASE-based ``bulk_update`` is no alternative: it spent
3.6 s of a 500-SMS batch's 7.5 s building its SQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from medguard_backend.row_inserts import Timestamps
from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus


@dataclass(frozen=True)
class Transition:
    """Delivery ``delivery_id`` becomes ``status`` (sent, pending, failed or unknown)
    because attempt ``attempt_id`` ended as ``outcome``.

    ``provider`` and ``provider_message_id``: None leaves the stored ones (a refusal says
    nothing about who has the message). ``error``: the attempt's error and the delivery's
    ``last_error`` ("" when sent). ``not_before``: when a retry is due (pending only)."""

    delivery_id: int
    attempt_id: int
    status: DeliveryStatus
    outcome: AttemptOutcome
    provider: str | None = None
    provider_message_id: str | None = None
    error: str = ""
    not_before: datetime | None = None


# Column name -> PostgreSQL type of the JSON rows each statement reads.
_ATTEMPT_ROWS = {
    "attempt": "bigint",
    "outcome": "text",
    "provider": "text",
    "provider_message_id": "text",
    "error": "text",
}
_DELIVERY_ROWS = {
    "delivery": "bigint",
    "status": "text",
    "provider": "text",
    "provider_message_id": "text",
    "error": "text",
    "not_before": "timestamptz",
}


def _rows_source(columns: dict[str, str]) -> str:
    """A FROM item named ``t`` with ``columns``, read from the JSON array bound as
    ``%(rows)s``."""
    if connection.vendor == "postgresql":
        types = ", ".join(f"{name} {kind}" for name, kind in columns.items())
        return f"jsonb_to_recordset(%(rows)s::jsonb) AS t({types})"
    picks = ", ".join(f"value ->> '$.{name}' AS {name}" for name in columns)
    return f"(SELECT {picks} FROM json_each(%(rows)s)) AS t"  # noqa: S608 - our column names


def write(token: uuid.UUID, transitions: Sequence[Transition], now: datetime) -> int:
    """Record ``transitions`` (two statements in one transaction); the number of
    deliveries changed, which is less than ``len(transitions)`` only for those no longer
    claimed by ``token``. The attempts are recorded even then: what the provider did with
    the message is true whoever settles the delivery (``claims.settle_claims`` reads it)."""
    if not transitions:
        return 0
    stamp = Timestamps()
    attempts = [
        {
            "attempt": t.attempt_id,
            "outcome": t.outcome,
            "provider": t.provider,
            "provider_message_id": t.provider_message_id,
            "error": t.error,
        }
        for t in transitions
    ]
    deliveries = [
        {
            "delivery": t.delivery_id,
            "status": t.status,
            "provider": t.provider,
            "provider_message_id": t.provider_message_id,
            "error": t.error,
            "not_before": stamp(t.not_before) if t.not_before is not None else None,
        }
        for t in transitions
    ]
    shared = {
        "now": stamp(now) if connection.vendor != "postgresql" else now,
        "sent": DeliveryStatus.SENT,
        "pending": DeliveryStatus.PENDING,
        "unknown": DeliveryStatus.UNKNOWN,
        "sending": DeliveryStatus.SENDING,
        "token": Delivery._meta.get_field("claim_token").get_db_prep_value(token, connection),
    }
    quote = connection.ops.quote_name
    # No savepoint of its own inside a caller's transaction (a batch's outcomes commit with
    # its push tickets, ``provider_batches``): one statement fewer each way.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {quote(DeliveryAttempt._meta.db_table)} AS a SET
                outcome = t.outcome,
                finished_at = %(now)s,
                provider = COALESCE(t.provider, a.provider),
                provider_message_id = COALESCE(t.provider_message_id, a.provider_message_id),
                error = t.error
            FROM {_rows_source(_ATTEMPT_ROWS)}
            WHERE a.id = t.attempt
            """,  # noqa: S608 - names from model metadata, values bound
            {**shared, "rows": json.dumps(attempts)},
        )
        # The columns each status touches, as the single-delivery paths always did: sent
        # stamps sent_at; back to pending unpublishes and unclaims (QuerySet
        # back_to_pending); unknown keeps claimed_at as the time the reconciler counts from.
        cursor.execute(
            f"""UPDATE {quote(Delivery._meta.db_table)} AS d SET
                status = t.status,
                last_error = t.error,
                provider = COALESCE(t.provider, d.provider),
                provider_message_id = COALESCE(t.provider_message_id, d.provider_message_id),
                sent_at = CASE WHEN t.status = %(sent)s THEN %(now)s ELSE d.sent_at END,
                not_before = COALESCE(t.not_before, d.not_before),
                claimed_at = CASE t.status WHEN %(pending)s THEN NULL
                    WHEN %(unknown)s THEN %(now)s ELSE d.claimed_at END,
                enqueued_at = CASE WHEN t.status = %(pending)s THEN NULL ELSE d.enqueued_at END,
                claim_token = NULL,
                updated_at = %(now)s
            FROM {_rows_source(_DELIVERY_ROWS)}
            WHERE d.id = t.delivery AND d.claim_token = %(token)s AND d.status = %(sending)s
            """,  # noqa: S608 - names from model metadata, values bound
            {**shared, "rows": json.dumps(deliveries)},
        )
        return int(cursor.rowcount)
