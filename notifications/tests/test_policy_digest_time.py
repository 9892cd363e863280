"""When a deferred email goes out as a digest: the next local occurrence of the chosen time."""

from __future__ import annotations

import datetime

import pytest

from notifications.policy.decisions import (
    DIGEST_TIMES,
    next_digest_time,
)
from notifications.tests.policy_cases import (
    DAYTIME,
    EVENING,
    JOHANNESBURG,
    LONDON,
    NEW_YORK,
    UTC,
    at,
    t,
)

# --- next_digest_time ----------------------------------------------------------------------


def test_digest_times_are_morning_afternoon_and_evening():
    expected = {"morning": t("08:00"), "afternoon": t("14:00"), "evening": t("20:00")}
    assert dict(DIGEST_TIMES) == expected


def test_immediate_email_time_is_now():
    assert next_digest_time(EVENING, JOHANNESBURG, "immediate", None) is EVENING


@pytest.mark.parametrize(
    ("preference", "now", "expected"),
    [
        ("morning", at(JOHANNESBURG, 2025, 6, 10, 7, 59), at(JOHANNESBURG, 2025, 6, 10, 8, 0)),
        ("morning", at(JOHANNESBURG, 2025, 6, 10, 8, 1), at(JOHANNESBURG, 2025, 6, 11, 8, 0)),
        ("afternoon", DAYTIME, at(JOHANNESBURG, 2025, 6, 10, 14, 0)),
        ("afternoon", at(JOHANNESBURG, 2025, 6, 10, 14, 0, 1), at(JOHANNESBURG, 2025, 6, 11, 14)),
        ("evening", DAYTIME, at(JOHANNESBURG, 2025, 6, 10, 20, 0)),
        ("evening", EVENING, at(JOHANNESBURG, 2025, 6, 11, 20, 0)),
    ],
)
def test_digest_time_is_the_next_local_occurrence_of_the_preferred_time(preference, now, expected):
    assert next_digest_time(now, JOHANNESBURG, preference, None) == expected


def test_digest_time_exactly_now_is_now():
    now = at(JOHANNESBURG, 2025, 6, 10, 8, 0)
    assert next_digest_time(now, JOHANNESBURG, "morning", None) == now


def test_custom_digest_time_is_the_users_time():
    expected = at(JOHANNESBURG, 2025, 6, 10, 10, 15)
    assert next_digest_time(DAYTIME, JOHANNESBURG, "custom", t("10:15")) == expected
    expected_tomorrow = at(JOHANNESBURG, 2025, 6, 11, 9, 45)
    assert next_digest_time(DAYTIME, JOHANNESBURG, "custom", t("09:45")) == expected_tomorrow


def test_custom_digest_time_of_midnight_is_honoured():
    expected = at(JOHANNESBURG, 2025, 6, 11, 0, 0)
    assert next_digest_time(DAYTIME, JOHANNESBURG, "custom", t("00:00")) == expected


def test_custom_digest_without_a_time_falls_back_to_the_morning():
    assert next_digest_time(EVENING, JOHANNESBURG, "custom", None) == at(
        JOHANNESBURG, 2025, 6, 11, 8, 0
    )


def test_morning_digest_ignores_a_leftover_custom_time():
    expected = at(JOHANNESBURG, 2025, 6, 11, 8, 0)
    assert next_digest_time(EVENING, JOHANNESBURG, "morning", t("23:45")) == expected


def test_digest_time_is_in_the_recipients_zone():
    now = datetime.datetime(2025, 6, 10, 5, 0, tzinfo=UTC)  # 07:00 SAST, 01:00 EDT
    assert next_digest_time(now, JOHANNESBURG, "morning", None) == datetime.datetime(
        2025, 6, 10, 6, 0, tzinfo=UTC
    )
    assert next_digest_time(now, NEW_YORK, "morning", None) == datetime.datetime(
        2025, 6, 10, 12, 0, tzinfo=UTC
    )


def test_digest_on_the_day_clocks_spring_forward_is_local_morning():
    now = at(LONDON, 2025, 3, 29, 22, 0)
    assert next_digest_time(now, LONDON, "morning", None) == datetime.datetime(
        2025, 3, 30, 7, 0, tzinfo=UTC
    )


def test_custom_digest_time_skipped_by_spring_forward_goes_just_after_the_jump():
    now = at(NEW_YORK, 2025, 3, 9, 1, 0)
    digest = next_digest_time(now, NEW_YORK, "custom", t("02:30"))
    assert digest == datetime.datetime(2025, 3, 9, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_custom_digest_time_in_the_repeated_hour_counts_its_second_occurrence():
    now = at(NEW_YORK, 2025, 11, 2, 1, 10, fold=1)  # 01:30 EDT has passed; 01:30 EST has not
    digest = next_digest_time(now, NEW_YORK, "custom", t("01:30"))
    assert digest == datetime.datetime(2025, 11, 2, 6, 30, tzinfo=UTC)


def test_unknown_email_time_preference_is_rejected():
    with pytest.raises(ValueError, match="weekly"):
        next_digest_time(DAYTIME, JOHANNESBURG, "weekly", None)
