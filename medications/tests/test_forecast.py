"""Days of supply: hand-computed cases, and properties that hold for any stock."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from medications.forecast import average_daily_use, days_of_supply, is_low, run_out_date
from medications.models import EVERY_DAY, Schedule

TODAY = datetime.date(2026, 3, 10)
MON_WED_FRI = 0b0010101


def schedule(
    quantity: str = "1",
    days: int = EVERY_DAY,
    *,
    paused: bool = False,
    end_date: datetime.date | None = None,
) -> Schedule:
    return Schedule(
        slot="morning",
        dose_quantity=Decimal(quantity),
        days_of_week=days,
        start_date=datetime.date(2026, 1, 1),
        end_date=end_date,
        paused=paused,
    )


def test_thirty_tablets_with_two_daily_schedules_of_one_tablet_last_fifteen_days() -> None:
    daily = average_daily_use([schedule(), schedule()], TODAY)

    assert daily == Decimal(2)
    assert days_of_supply(Decimal(30), daily) == Decimal("15.0")


def test_a_mon_wed_fri_schedule_uses_three_sevenths_of_a_dose_a_day() -> None:
    daily = average_daily_use([schedule(days=MON_WED_FRI)], TODAY)

    assert daily == Decimal(3) / 7
    assert days_of_supply(Decimal(30), daily) == Decimal("70.0")


def test_three_tablets_at_three_a_week_last_exactly_seven_days_despite_decimal_noise() -> None:
    # 3 / (3/7) is 6.99999... in 28-digit decimals; the forecast must say 7.0.
    days = days_of_supply(Decimal(3), average_daily_use([schedule(days=MON_WED_FRI)], TODAY))

    assert days == Decimal("7.0")
    assert is_low(days, 7)


def test_half_tablet_doses_and_fractions_of_a_day_round_down_to_a_tenth() -> None:
    daily = average_daily_use([schedule("0.5"), schedule("1", days=MON_WED_FRI)], TODAY)

    # 0.5 + 3/7 = 0.9286 a day; 10 tablets last 10.769... days.
    assert days_of_supply(Decimal(10), daily) == Decimal("10.7")


def test_paused_and_ended_schedules_use_no_stock_but_one_ending_today_still_does() -> None:
    schedules = [
        schedule(paused=True),
        schedule(end_date=TODAY - datetime.timedelta(days=1)),
        schedule("2", end_date=TODAY),
    ]

    assert average_daily_use(schedules, TODAY) == Decimal(2)


def test_a_schedule_starting_later_already_counts() -> None:
    later = schedule()
    later.start_date = TODAY + datetime.timedelta(days=14)

    assert average_daily_use([later], TODAY) == Decimal(1)


def test_without_an_active_schedule_there_is_no_forecast_and_no_alert() -> None:
    daily = average_daily_use([schedule(paused=True)], TODAY)

    assert daily == 0
    assert days_of_supply(Decimal(3), daily) is None
    assert not is_low(None, 5)


def test_no_stock_left_is_zero_days_and_runs_out_today() -> None:
    days = days_of_supply(Decimal(0), Decimal(2))

    assert days == Decimal("0.0")
    assert run_out_date(TODAY, Decimal("0.0")) == TODAY


def test_run_out_date_counts_whole_days_only() -> None:
    assert run_out_date(TODAY, Decimal("4.9")) == datetime.date(2026, 3, 14)
    assert run_out_date(TODAY, Decimal("5.0")) == datetime.date(2026, 3, 15)


def test_stock_is_low_on_the_last_day_of_the_horizon_and_not_a_tenth_beyond_it() -> None:
    assert is_low(Decimal("5.0"), 5)
    assert not is_low(Decimal("5.1"), 5)


quantities = st.decimals(min_value=0, max_value=100_000, places=2)
dose_quantities = st.decimals(min_value=Decimal("0.01"), max_value=50, places=2)
weekdays = st.integers(min_value=1, max_value=EVERY_DAY)
active_schedules = st.lists(
    st.builds(lambda q, d: schedule(str(q), d), dose_quantities, weekdays), min_size=1, max_size=6
)


@settings(deadline=None)
@given(quantity=quantities, schedules=active_schedules)
def test_days_of_supply_is_never_negative(quantity: Decimal, schedules: list[Schedule]) -> None:
    days = days_of_supply(quantity, average_daily_use(schedules, TODAY))

    assert days is not None
    assert days >= 0


@settings(deadline=None)
@given(a=quantities, b=quantities, schedules=active_schedules)
def test_more_stock_never_lasts_fewer_days(
    a: Decimal, b: Decimal, schedules: list[Schedule]
) -> None:
    daily = average_daily_use(schedules, TODAY)
    low, high = sorted((a, b))

    assert days_of_supply(low, daily) <= days_of_supply(high, daily)  # type: ignore[operator]


@settings(deadline=None)
@given(
    quantity=quantities,
    schedules=st.lists(
        st.builds(lambda q, d: schedule(str(q), d, paused=True), dose_quantities, weekdays),
        max_size=4,
    ),
)
def test_without_active_schedules_there_is_never_a_forecast(
    quantity: Decimal, schedules: list[Schedule]
) -> None:
    assert days_of_supply(quantity, average_daily_use(schedules, TODAY)) is None


@given(days=st.decimals(min_value=0, max_value=1000, places=1))
def test_run_out_date_is_never_before_today_nor_after_today_plus_days(days: Decimal) -> None:
    date = run_out_date(TODAY, days)

    assert TODAY <= date <= TODAY + datetime.timedelta(days=float(days))
