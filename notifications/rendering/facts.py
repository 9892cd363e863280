"""The facts of an event as templates read them: types that JSON lost brought back, and
the medicine left out for a recipient who did not choose to see it.

A notification's ``context`` is stored as JSON, which keeps only strings and numbers; the
producers of each event (``events.EVENTS``) store aware ISO 8601 times, ISO dates and
numbers, and these are turned back into datetimes, dates and numbers for the templates'
filters and plural forms.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

logger = logging.getLogger(__name__)

# Context keys that say which medicine a person takes. Removed, not blanked, when the
# recipient did not choose to see them, so that no template (file or admin override) can
# print them on a lock screen or in an SMS.
MEDICATION_KEYS = ("medication_name", "dosage", "instructions")


def _as_datetime(value: Any) -> datetime.datetime | None:
    parsed: datetime.datetime | None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is not None and timezone.is_naive(parsed):
        # Producers store aware ISO 8601 strings; a naive one is read as Django reads any
        # naive datetime, in the default (South African) time zone.
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            moment = _as_datetime(value)
            parsed = moment.date() if moment is not None else None
        return parsed
    return None


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _as_whole_number(value: Any) -> int | None:
    number = _as_number(value)
    # Truncated, not rounded: "about 5 days left" for 5.9 days errs on the side of an
    # early refill.
    return int(number) if number is not None else None


def _as_quantity(value: Any) -> int | Decimal | None:
    number = _as_number(value)
    if number is None:
        return None
    # 30 reads "30", not "30.000"; a fraction keeps the language's decimal mark ("2,5").
    return int(number) if number == number.to_integral_value() else number.normalize()


# Context keys whose type JSON lost (see ``events.EVENTS``), and how to get it back.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "dose_time": _as_datetime,
    "run_out_date": _as_date,
    "expiry_date": _as_date,
    "days_of_supply": _as_whole_number,
    "days_until_expiry": _as_whole_number,
    "quantity_on_hand": _as_quantity,
}


def event_context(raw: Mapping[str, Any] | None, *, show_medication_name: bool) -> dict[str, Any]:
    """The event's facts with their types restored (JSON keeps only strings and numbers).

    A value that cannot be read is dropped, so templates take their "unknown" branch
    instead of printing an ISO string or crashing a plural form.
    """
    context = dict(raw or {})
    for key, convert in _CONVERTERS.items():
        if key not in context:
            continue
        value = convert(context[key])
        if value is None:
            if context[key] not in (None, ""):
                logger.warning("notification context key %r has an unreadable value", key)
            del context[key]
        else:
            context[key] = value
    if not show_medication_name:
        for key in MEDICATION_KEYS:
            context.pop(key, None)
    return context
