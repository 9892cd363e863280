"""Many rows into one table in one statement, on PostgreSQL and SQLite alike.

Both engines have ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (SQLite since 3.35), so
the rows a statement returns are exactly the rows it inserted: no re-reading by timestamp,
which cannot tell two sends in the same microsecond (or under a frozen clock) apart.

The rows travel as one JSON document (one bound parameter, however many rows: json.dumps is
C, while binding thousands of parameters costs more than the insert itself), unpacked by
``jsonb_to_recordset`` on PostgreSQL and ``json_each`` on SQLite.

The column list comes from the model's metadata: the caller names the columns its rows
supply and the values shared by every row; every other column takes the model's default
(``""`` for a text column, as Django would). A NOT NULL column with no default raises here,
on both engines, instead of failing on one of them in production.

Values of encrypted fields (``privacy.encryption``) are encrypted here, by the field's own
``get_db_prep_save``, shared values once and supplied values once per row: a column written
by this path is never in clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from django.utils import timezone

from privacy.encryption.fields import is_encrypted


class Timestamps:
    """Datetimes as the text the engine stores them in, each formatted once: a batch's rows
    share a handful of datetime objects (the send time, a quiet-hours end), and formatting
    costs 25 times a lookup. Keyed by identity (cheaper than hashing an aware datetime); the
    value is held, so its id cannot be reused while this lives."""

    def __init__(self) -> None:
        self._text: dict[int, tuple[datetime, str]] = {}
        self._format: Callable[[datetime], str]
        # PostgreSQL parses ISO 8601 with its offset; Django's SQLite columns hold naive
        # UTC text ("2026-11-30 08:00:00.5"), compared as text, so it must match exactly.
        if connection.vendor == "postgresql":
            self._format = datetime.isoformat
        else:
            self._format = connection.ops.adapt_datetimefield_value  # type: ignore[assignment]

    def __call__(self, value: datetime) -> str:
        known = self._text.get(id(value))
        if known is None:
            known = self._text[id(value)] = (value, self._format(value))
        return known[1]


def _concrete(field: object) -> models.Field[Any, Any]:
    if not isinstance(field, models.Field) or not field.concrete:
        raise TypeError(f"{field} is not a column")
    return field


class RowInsert:
    """The columns of an INSERT into ``model``'s table: first ``supplied`` (field names whose
    values each row brings), then every other column with its value for all rows —
    ``shared`` where given, else the model's default, ``now`` for ``auto_now`` fields.
    Nullable columns without a default are left out (NULL)."""

    def __init__(
        self,
        model: type[models.Model],
        supplied: Sequence[str],
        *,
        now: datetime | None = None,
        prefix: str = "",
        **shared: Any,
    ) -> None:
        meta = model._meta
        self.table = meta.db_table
        self.supplied = [_concrete(meta.get_field(name)) for name in supplied]
        self._shared: list[tuple[models.Field[Any, Any], str, Any]] = []
        named = set(supplied)
        for field in meta.concrete_fields:
            if field.primary_key or field.name in named:
                continue
            if field.name in shared:
                value = shared.pop(field.name)
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now or timezone.now()
            elif field.has_default() or (not field.null and field.empty_strings_allowed):
                value = field.get_default()
            elif field.null:
                continue
            else:
                raise TypeError(
                    f"{meta.label}.{field.name} is NOT NULL without a default: "
                    "supply it per row or as a shared value"
                )
            self._shared.append((field, f"{prefix}{field.column}", value))
        if shared:
            raise TypeError(f"{meta.label} has no field {', '.join(shared)}")
        self._postgres = connection.vendor == "postgresql"
        self.encrypted = [field for field in self.supplied if is_encrypted(field)]

    def prepared(self, rows: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
        """``rows`` with the values of encrypted fields encrypted (the rest untouched)."""
        if not self.encrypted:
            return rows
        fields = [(field.attname, field) for field in self.encrypted]
        return (
            {
                **row,
                **{
                    name: field.get_db_prep_save(row.get(name), connection)
                    for name, field in fields
                },
            }
            for row in rows
        )

    @property
    def target(self) -> str:
        """``table (column, ...)``, the supplied columns first."""
        columns = [field.column for field in self.supplied]
        columns += [field.column for field, _, _ in self._shared]
        return f"{self.table} ({', '.join(columns)})"

    def select(self, supplied_values: Sequence[str]) -> str:
        """The SELECT list: the SQL giving each supplied column, then the shared values."""
        shared = [
            f"CAST(%({name})s AS {field.db_type(connection)})" if self._postgres else f"%({name})s"
            for field, name, _ in self._shared
        ]
        return ", ".join([*supplied_values, *shared])

    @property
    def params(self) -> dict[str, Any]:
        return {
            name: field.get_db_prep_save(value, connection) for field, name, value in self._shared
        }

    def rows_source(self, parameter: str, alias: str) -> tuple[str, list[str]]:
        """A FROM clause reading the rows from the JSON array bound as ``parameter`` (objects
        keyed by the supplied fields' attnames), and the SQL of each supplied column."""
        if self._postgres:
            types = ", ".join(f"{f.attname} {f.db_type(connection)}" for f in self.supplied)
            return (
                f"jsonb_to_recordset(%({parameter})s::jsonb) AS {alias}({types})",
                [f"{alias}.{field.attname}" for field in self.supplied],
            )
        # SQLite: ->> gives the SQL value (text, number, 1/0 for a boolean); a JSON column
        # keeps its JSON text with ->. "WHERE true" keeps the parser from reading ON
        # CONFLICT as a join's ON.
        return (
            f"json_each(%({parameter})s) AS {alias} WHERE true",
            [
                f"{alias}.value {'->' if _json_column(field) else '->>'} '$.{field.attname}'"
                for field in self.supplied
            ],
        )


def _json_column(field: models.Field[Any, Any]) -> bool:
    # An encrypted JSON field's column holds a token (text), not JSON.
    return isinstance(field, models.JSONField) and not is_encrypted(field)


def insert_rows(
    insert: RowInsert,
    rows: Iterable[Mapping[str, Any]],
    *,
    unique: Sequence[str],
    returning: Sequence[str],
    encoder: type[json.JSONEncoder] | None = None,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (dicts keyed by the supplied fields' attnames, datetimes already as
    ``Timestamps`` text), skipping those that clash on the ``unique`` columns; return the
    ``returning`` columns of the rows inserted, and only those."""
    source, values = insert.rows_source("rows", "t")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {insert.target}
            SELECT {insert.select(values)} FROM {source}
            ON CONFLICT ({", ".join(unique)}) DO NOTHING
            RETURNING {", ".join(returning)}
            """,  # noqa: S608 - names come from model metadata, values are bound
            {**insert.params, "rows": json.dumps(list(insert.prepared(rows)), cls=encoder)},
        )
        return [tuple(row) for row in cursor.fetchall()]
