"""Which doses a list shows: the ``status``, ``from`` and ``to`` query parameters.

``from`` and ``to`` are calendar days in the patient's own time zone (a dose at 06:00 UTC
is the patient's 08:00 in Johannesburg), both included.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from medications.models import Dose


def local_midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime | None:
    """The start of ``day`` in ``zone``; ``None`` when that instant is outside what a
    datetime can hold (the first or last day of the calendar): then there is no bound."""
    try:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone).astimezone(
            datetime.UTC
        )
    except OverflowError:
        return None


def filter_doses(doses: QuerySet[Dose], query: dict[str, Any], zone: ZoneInfo) -> QuerySet[Dose]:
    if status := query.get("status"):
        doses = doses.filter(status=status)
    if (first_day := query.get("from")) and (start := local_midnight(first_day, zone)):
        doses = doses.filter(due_at__gte=start)
    if last_day := query.get("to"):
        try:
            end = local_midnight(last_day + datetime.timedelta(days=1), zone)
        except OverflowError:
            end = None
        if end is not None:
            doses = doses.filter(due_at__lt=end)
    return doses
