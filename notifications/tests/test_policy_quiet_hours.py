"""Quiet hours: which local times a window holds, and when a held delivery is released."""

from __future__ import annotations

import datetime

import pytest

from notifications.policy.decisions import (
    in_quiet_hours,
    quiet_hours_release,
)
from notifications.tests.policy_cases import (
    DAYTIME,
    EVENING,
    JOHANNESBURG,
    LONDON,
    NEW_YORK,
    NEXT_MORNING_SEVEN,
    UTC,
    at,
    t,
)

# --- in_quiet_hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        ("22:00", True),  # start is inclusive
        ("23:30", True),
        ("00:00", True),
        ("06:59", True),
        ("07:00", False),  # end is exclusive
        ("21:59", False),
        ("12:00", False),
    ],
)
def test_window_across_midnight_includes_start_and_excludes_end(local_time, expected):
    assert in_quiet_hours(t(local_time), t("22:00"), t("07:00")) is expected


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [("12:59", False), ("13:00", True), ("14:59", True), ("15:00", False), ("23:00", False)],
)
def test_window_within_one_day_includes_start_and_excludes_end(local_time, expected):
    assert in_quiet_hours(t(local_time), t("13:00"), t("15:00")) is expected


@pytest.mark.parametrize("local_time", ["00:00", "06:59", "22:00", "22:01", "23:59"])
def test_window_whose_start_equals_its_end_is_empty(local_time):
    assert in_quiet_hours(t(local_time), t("22:00"), t("22:00")) is False


@pytest.mark.parametrize(
    ("local_time", "expected"), [("23:59", True), ("00:00", False), ("21:59", False)]
)
def test_window_ending_at_midnight_excludes_midnight(local_time, expected):
    assert in_quiet_hours(t(local_time), t("22:00"), t("00:00")) is expected


@pytest.mark.parametrize(
    ("local_time", "expected"), [("00:00", True), ("05:59", True), ("06:00", False)]
)
def test_window_starting_at_midnight_includes_midnight(local_time, expected):
    assert in_quiet_hours(t(local_time), t("00:00"), t("06:00")) is expected


# --- quiet_hours_release -------------------------------------------------------------------


def test_release_is_none_outside_quiet_hours():
    assert quiet_hours_release(DAYTIME, JOHANNESBURG, t("22:00"), t("07:00")) is None


def test_release_in_the_evening_part_of_a_wrapping_window_is_tomorrows_end():
    release = quiet_hours_release(EVENING, JOHANNESBURG, t("22:00"), t("07:00"))
    assert release == NEXT_MORNING_SEVEN
    assert release.utcoffset() == datetime.timedelta(0)  # aware, in UTC


def test_release_in_the_morning_part_of_a_wrapping_window_is_todays_end():
    now = at(JOHANNESBURG, 2025, 6, 11, 5, 0)
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) == NEXT_MORNING_SEVEN


def test_release_exactly_at_window_start_is_the_next_end():
    now = at(JOHANNESBURG, 2025, 6, 10, 22, 0)
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) == NEXT_MORNING_SEVEN


def test_release_one_minute_before_window_end_is_one_minute_later():
    now = at(JOHANNESBURG, 2025, 6, 11, 6, 59)
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) == NEXT_MORNING_SEVEN


def test_release_is_none_exactly_at_window_end():
    assert quiet_hours_release(NEXT_MORNING_SEVEN, JOHANNESBURG, t("22:00"), t("07:00")) is None


def test_release_is_none_one_minute_before_window_start():
    now = at(JOHANNESBURG, 2025, 6, 10, 21, 59)
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) is None


def test_release_is_none_for_an_empty_window():
    assert quiet_hours_release(EVENING, JOHANNESBURG, t("23:30"), t("23:30")) is None


def test_release_of_a_window_within_one_day_is_the_same_days_end():
    now = at(JOHANNESBURG, 2025, 6, 10, 13, 0)
    expected = at(JOHANNESBURG, 2025, 6, 10, 15, 0)
    assert quiet_hours_release(now, JOHANNESBURG, t("13:00"), t("15:00")) == expected


def test_release_crosses_the_end_of_the_year():
    now = at(JOHANNESBURG, 2025, 12, 31, 23, 0)
    expected = at(JOHANNESBURG, 2026, 1, 1, 7, 0)
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) == expected


def test_quiet_hours_are_evaluated_in_the_recipients_zone_not_the_servers():
    now = datetime.datetime(2025, 6, 10, 6, 0, tzinfo=UTC)  # 08:00 SAST, 02:00 EDT
    assert quiet_hours_release(now, JOHANNESBURG, t("22:00"), t("07:00")) is None
    assert quiet_hours_release(now, NEW_YORK, t("22:00"), t("07:00")) == at(
        NEW_YORK, 2025, 6, 10, 7, 0
    )


def test_release_accepts_now_in_any_zone():
    now_in_new_york = EVENING.astimezone(NEW_YORK)
    assert quiet_hours_release(now_in_new_york, JOHANNESBURG, t("22:00"), t("07:00")) == (
        NEXT_MORNING_SEVEN
    )


def test_release_on_the_night_clocks_spring_forward_is_local_end_in_summer_time():
    # London, 30 March 2025: 01:00 GMT becomes 02:00 BST, so the night is 7 hours of real time.
    now = at(LONDON, 2025, 3, 29, 23, 0)
    release = quiet_hours_release(now, LONDON, t("22:00"), t("07:00"))
    assert release == datetime.datetime(2025, 3, 30, 6, 0, tzinfo=UTC)
    assert release.astimezone(LONDON).time() == t("07:00")


def test_release_on_the_night_clocks_fall_back_is_local_end_in_winter_time():
    # London, 26 October 2025: 02:00 BST becomes 01:00 GMT, so the night is 9 hours long.
    now = at(LONDON, 2025, 10, 25, 23, 0)
    release = quiet_hours_release(now, LONDON, t("22:00"), t("07:00"))
    assert release == datetime.datetime(2025, 10, 26, 7, 0, tzinfo=UTC)


def test_window_end_skipped_by_spring_forward_releases_just_as_late_after_the_jump():
    # New York, 9 March 2025: 02:00 EST becomes 03:00 EDT, so 02:30 never happens. The end is
    # read with the winter offset: 02:30 EST, i.e. 03:30 EDT (late, never inside the window).
    now = at(NEW_YORK, 2025, 3, 9, 1, 0)
    release = quiet_hours_release(now, NEW_YORK, t("22:00"), t("02:30"))
    assert release == datetime.datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert release.astimezone(NEW_YORK).time() == t("03:30")


def test_window_end_skipped_by_spring_forward_inside_a_long_window_releases_next_day():
    # 03:00-02:30 leaves only 02:30-03:00 free, which 9 March 2025 does not have in New York.
    now = at(NEW_YORK, 2025, 3, 9, 1, 0)
    release = quiet_hours_release(now, NEW_YORK, t("03:00"), t("02:30"))
    assert release == at(NEW_YORK, 2025, 3, 10, 2, 30)


def test_window_end_in_the_repeated_hour_releases_at_its_first_occurrence():
    # New York, 2 November 2025: 02:00 EDT becomes 01:00 EST; 01:00-02:00 happens twice.
    now = at(NEW_YORK, 2025, 11, 2, 1, 10)  # EDT, first pass
    release = quiet_hours_release(now, NEW_YORK, t("00:30"), t("01:30"))
    assert release == datetime.datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT


def test_window_end_in_the_repeated_hour_releases_strictly_after_now_on_the_second_pass():
    now = at(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)  # EST, second pass: wall clock says quiet
    release = quiet_hours_release(now, NEW_YORK, t("00:30"), t("01:30"))
    assert release == datetime.datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert release > now


def test_release_rejects_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        quiet_hours_release(datetime.datetime(2025, 6, 10, 23, 0), UTC, t("22:00"), t("07:00"))
