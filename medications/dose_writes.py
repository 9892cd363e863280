"""Creating the doses of a batch in one statement, and telling which ones this run created.

Only the run that creates a dose reminds it, so "which rows are mine" must be exact even
when two runs race or share a timestamp: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
(``medguard_backend.row_inserts``) says so directly, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from medguard_backend.row_inserts import RowInsert, Timestamps, insert_rows

from .models import Dose


def create_doses(
    due: Sequence[tuple[int, datetime.datetime]], now: datetime.datetime
) -> dict[int, int]:
    """Insert a pending dose per (schedule_id, due_at) unless it exists; return
    {schedule_id: dose_id} for the doses this call created."""
    if not due:
        return {}
    # A batch's doses share a due time or a few: each formatted once.
    iso = Timestamps()
    created = insert_rows(
        RowInsert(Dose, ("schedule", "due_at"), now=now, reminded_at=now),
        ({"schedule_id": pk, "due_at": iso(at)} for pk, at in due),
        unique=("schedule_id", "due_at"),
        returning=("schedule_id", "id"),
    )
    return dict(created)
