"""Creating the doses of a batch in one statement, and telling which ones this run created.

Only the run that creates a dose reminds it, so "which rows are mine" must be exact even
when two runs race: on PostgreSQL ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` says so
directly (the rows come as one JSON document, cheaper to bind than thousands of
parameters); elsewhere the rows this run stamped with its own ``reminded_at`` are its own.
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Sequence

from django.db import connection

from .models import Dose


def create_doses(
    due: Sequence[tuple[int, datetime.datetime]], now: datetime.datetime
) -> dict[int, int]:
    """Insert a pending dose per (schedule_id, due_at) unless it exists; return
    {schedule_id: dose_id} for the doses this call created."""
    if not due:
        return {}
    if connection.vendor == "postgresql":
        iso = functools.cache(datetime.datetime.isoformat)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Dose._meta.db_table}
                    (schedule_id, due_at, status, reminded_at, snooze_count)
                SELECT schedule_id, due_at, %s, %s, 0
                FROM jsonb_to_recordset(%s::jsonb) AS t(schedule_id bigint, due_at timestamptz)
                ON CONFLICT (schedule_id, due_at) DO NOTHING
                RETURNING schedule_id, id
                """,  # noqa: S608 - the table name comes from model metadata, values are bound
                [
                    Dose.Status.PENDING,
                    now,
                    # A batch's doses share a due time or a few: each formatted once.
                    json.dumps([{"schedule_id": pk, "due_at": iso(at)} for pk, at in due]),
                ],
            )
            return dict(cursor.fetchall())
    Dose.objects.bulk_create(
        [Dose(schedule_id=pk, due_at=at, reminded_at=now) for pk, at in due],
        ignore_conflicts=True,
    )
    return dict(
        Dose.objects.filter(schedule_id__in=[pk for pk, _ in due], reminded_at=now).values_list(
            "schedule_id", "id"
        )
    )
