"""Stock forecasting: how many days a supply lasts at the rate its schedules use it.

Pure functions over plain values (no queries), so the periodic checks can compute a whole
batch of supplies in Python after one fetch.

Rounding, in ``Decimal`` throughout (never ``float``: 0.1 tablet must stay 0.1):

- ``average_daily_use`` is exact up to the ``Decimal`` context's 28 digits (a Mon/Wed/Fri
  schedule uses 3/7 of a dose a day, which has no finite decimal form).
- ``days_of_supply`` first rounds to 0.01 day, which removes that last-digit noise (so 3
  tablets at 3/7 a day is exactly 7 days, not 6.999...), then rounds DOWN to 0.1 day, the
  precision shown to people. Down, because "4.9 days left" for 4.96 days errs on the side of
  an earlier refill; the comparison with the warning horizon uses the same value, so an
  alert can come up to 0.1 day early, never late.
- ``run_out_date`` counts whole days only: 4.9 days left today runs out in 4 days.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Protocol

DAYS_IN_WEEK = 7
ALL_WEEKDAYS = 0b1111111
NOISE_QUANTUM = Decimal("0.01")
DISPLAY_QUANTUM = Decimal("0.1")
ZERO = Decimal(0)


class ScheduleLike(Protocol):
    """What a forecast needs of a schedule (``medications.models.Schedule`` fits)."""

    paused: bool
    end_date: datetime.date | None
    dose_quantity: Decimal
    days_of_week: int


def uses_stock_from(schedule: ScheduleLike, on: datetime.date) -> bool:
    """Whether the schedule takes doses on ``on`` or later.

    A schedule that starts later counts already: it is stock the patient will need, and a
    refill ordered early is better than one ordered late. A paused schedule does not count,
    since pausing means the patient has stopped for now.
    """
    return not schedule.paused and (schedule.end_date is None or schedule.end_date >= on)


def average_daily_use(schedules: Iterable[ScheduleLike], on: datetime.date) -> Decimal:
    """Units used per day on average by the schedules that still run on ``on``: each one's
    dose quantity times the share of weekdays it runs on."""
    weekly = sum(
        (
            Decimal(schedule.dose_quantity) * (schedule.days_of_week & ALL_WEEKDAYS).bit_count()
            for schedule in schedules
            if uses_stock_from(schedule, on)
        ),
        start=ZERO,
    )
    return weekly / DAYS_IN_WEEK


def days_of_supply(quantity_on_hand: Decimal, daily_use: Decimal) -> Decimal | None:
    """Days the stock lasts, rounded down to 0.1 day (see the module docstring).

    ``None`` when nothing is used (no active schedule): no forecast, so no alert. Never
    negative: a negative quantity (which the database does not allow) counts as none.
    """
    if daily_use <= 0:
        return None
    quantity = max(Decimal(quantity_on_hand), ZERO)
    days = (quantity / daily_use).quantize(NOISE_QUANTUM, rounding=ROUND_HALF_EVEN)
    return days.quantize(DISPLAY_QUANTUM, rounding=ROUND_DOWN)


def run_out_date(today: datetime.date, days: Decimal) -> datetime.date:
    """The day the stock runs out: today plus the whole days left."""
    return today + datetime.timedelta(days=int(max(days, ZERO)))


def is_low(days: Decimal | None, warning_days: int) -> bool:
    """Whether stock lasting ``days`` is inside the warning horizon (the horizon's last
    day included). No forecast is never low."""
    return days is not None and days <= warning_days
