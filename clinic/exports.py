"""The dashboard's tables as CSV, for a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable

from django.http import HttpResponse

from .dashboard import BUCKET_ORDER, Dashboard

Row = Iterable[object]


def _deliveries(board: Dashboard) -> Iterable[Row]:
    yield ("channel", "status", "count")
    for channel, statuses in board.deliveries_by_channel.items():
        for status, count in statuses.items():
            yield (channel, status, count)


def _deliveries_by_day(board: Dashboard) -> Iterable[Row]:
    statuses = sorted({s for counts in board.deliveries_by_day.values() for s in counts})
    yield ("day", *statuses)
    for day, counts in board.deliveries_by_day.items():
        yield (day.isoformat(), *(counts.get(s, 0) for s in statuses))


def _failures(board: Dashboard) -> Iterable[Row]:
    yield ("channel", "reason", "count")
    yield from board.failure_reasons


def _responses(board: Dashboard) -> Iterable[Row]:
    yield ("response", *BUCKET_ORDER)
    for response, buckets in board.responses.items():
        yield (response, *(buckets[b] for b in BUCKET_ORDER))


def _adherence(board: Dashboard) -> Iterable[Row]:
    yield ("day", "taken", "taken_skipped_or_missed")
    for day, (taken, decided) in board.adherence_by_day.items():
        yield (day.isoformat(), taken, decided)


def _expiring(board: Dashboard) -> Iterable[Row]:
    yield ("expiry_date", "patient", "medicine")
    for supply in board.expiring:
        yield (supply.expiry_date, supply.patient.username, str(supply.medicine))


TABLES: dict[str, Callable[[Dashboard], Iterable[Row]]] = {
    "deliveries": _deliveries,
    "deliveries-by-day": _deliveries_by_day,
    "failures": _failures,
    "responses": _responses,
    "adherence": _adherence,
    "expiring": _expiring,
}


def _cell(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet; stored errors and names
    # come from outside, so they are quoted (OWASP "CSV injection").
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(table: str, board: Dashboard) -> HttpResponse:
    period = f"{board.period.start.isoformat()}_{board.period.end.isoformat()}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="medguard-{table}-{period}.csv"'
    writer = csv.writer(response)
    for row in TABLES[table](board):
        writer.writerow([_cell(value) for value in row])
    return response
