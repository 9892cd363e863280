"""Rows read with hand-written SQL, converted as the ORM converts them.

A hot read path may write its SQL once instead of having the ORM build it on every request
(see ``notifications.inbox.page``). The database still returns some values in its own
form (SQLite: datetimes as text, booleans as integers; any: JSON as text), so such a path
applies the very converters the ORM's compiler would, found once per field here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection

# (position in the row, the column expression, the converter) in the ORM's order.
Conversion = tuple[int, Any, Callable[[Any, Any, Any], Any]]


def conversions(fields: Sequence[Any], *, decoded: bool = True) -> tuple[Conversion, ...]:
    """The conversions for a row holding ``fields`` (model fields, in column order) on the
    current connection. With ``decoded=False`` a field's own ``from_db_value`` (a JSON
    field's decoding) is left for later. Fields are ``Any``: the stubs lack
    ``get_db_converters``."""
    result: list[Conversion] = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        functions = list(connection.ops.get_db_converters(column))
        if decoded:
            functions += field.get_db_converters(connection)
        result.extend((index, column, function) for function in functions)
    return tuple(result)


def converted(row: Sequence[Any], conversions: Sequence[Conversion]) -> list[Any]:
    values = list(row)
    for index, column, function in conversions:
        values[index] = function(values[index], column, connection)
    return values


@functools.cache
def _native_timestamptz_loader() -> Any:
    # psycopg's own loader (compiled, with psycopg[binary]) for timestamptz as text.
    import psycopg

    oid = psycopg.postgres.types["timestamptz"].oid
    return psycopg.adapters.get_loader(oid, psycopg.pq.Format.TEXT)


def read_timestamps_natively(cursor: Any) -> None:
    """Let psycopg's compiled loader read this cursor's timestamps (PostgreSQL, USE_TZ).

    Django reads every timestamptz through a Python subclass of psycopg's loader, which
    parses in Python (the compiled class cannot be subclassed) to attach its time zone:
    about 7 microseconds a value, a tenth of a page. The compiled one gives the same
    instant in the connection's zone, which Django sets to UTC; only the tzinfo object
    differs (``zoneinfo.ZoneInfo("UTC")`` for ``datetime.UTC``). For a page's rows that
    are only formatted and compared, not for the ORM's models."""
    if connection.vendor == "postgresql" and settings.USE_TZ:
        cursor.cursor.adapters.register_loader("timestamptz", _native_timestamptz_loader())
