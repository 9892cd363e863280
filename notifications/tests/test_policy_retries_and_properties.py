"""Retries and back-off, the medication-name rule, and properties."""

from __future__ import annotations

import datetime
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.models.choices import (
    Channel,
    EmailTimePreference,
    NotificationType,
    Priority,
)
from notifications.models.preferences import UserNotificationPreferences
from notifications.policy.decisions import (
    DIGEST_TIMES,
    Action,
    DeferReason,
    SkipReason,
    decide,
    in_quiet_hours,
    may_name_medication,
    may_retry,
    next_digest_time,
    quiet_hours_release,
    retry_delay,
)
from notifications.tests.policy_cases import (
    FIXED_OFFSET_ZONES,
    UTC,
    ZONES,
    t,
)

# --- retries -------------------------------------------------------------------------------


class FixedRandom(random.Random):
    """random() always returns `value`, so uniform(0, c) == c * value."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 30.0), (2, 60.0), (3, 120.0), (4, 240.0), (5, 480.0), (6, 600.0), (50, 600.0)],
)
def test_retry_delay_doubles_up_to_the_cap(attempt, ceiling):
    half = retry_delay(attempt, base_seconds=30, max_seconds=600, rng=FixedRandom(0.5))
    assert half == ceiling / 2


def test_retry_delay_has_full_jitter_down_to_zero():
    assert retry_delay(4, base_seconds=30, max_seconds=600, rng=FixedRandom(0.0)) == 0.0


def test_retry_delay_is_reproducible_with_a_seeded_rng():
    first = [retry_delay(n, base_seconds=5, max_seconds=300, rng=random.Random(7)) for n in (1, 5)]
    again = [retry_delay(n, base_seconds=5, max_seconds=300, rng=random.Random(7)) for n in (1, 5)]
    assert first == again


def test_retry_delay_without_an_rng_stays_in_range():
    for _ in range(100):
        assert 0 <= retry_delay(3, base_seconds=10, max_seconds=1000) <= 40


def test_retry_delay_of_a_huge_attempt_is_capped_without_overflow():
    assert retry_delay(10_000, base_seconds=30, max_seconds=600, rng=FixedRandom(0.5)) == 300


@pytest.mark.parametrize("attempt", [0, -1])
def test_retry_delay_counts_attempts_from_one(attempt):
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(attempt, base_seconds=30, max_seconds=600)


@pytest.mark.parametrize(("base", "cap"), [(-1, 600), (30, -1)])
def test_retry_delay_rejects_negative_delays(base, cap):
    with pytest.raises(ValueError, match="negative"):
        retry_delay(1, base_seconds=base, max_seconds=cap)


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "permanent", "expected"),
    [
        (0, 5, False, True),
        (4, 5, False, True),
        (5, 5, False, False),
        (6, 5, False, False),
        (0, 5, True, False),
        (1, 5, True, False),
        (0, 0, False, False),
    ],
)
def test_only_temporary_failures_are_retried_while_attempts_remain(
    attempts, max_attempts, permanent, expected
):
    assert may_retry(attempts, max_attempts, permanent) is expected


# --- privacy -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "opted_in", "expected"),
    [
        ("in_app", False, True),
        ("email", False, True),
        ("sms", False, False),
        ("push", False, False),
        ("in_app", True, True),
        ("email", True, True),
        ("sms", True, True),
        ("push", True, True),
    ],
)
def test_sms_and_push_name_the_medication_only_when_the_user_opted_in(channel, opted_in, expected):
    prefs = UserNotificationPreferences(show_medication_names_in_sms_push=opted_in)
    assert may_name_medication(channel, prefs) is expected


def test_may_name_medication_rejects_an_unknown_channel():
    with pytest.raises(ValueError, match="fax"):
        may_name_medication("fax", UserNotificationPreferences())


# --- properties ----------------------------------------------------------------------------

zones = st.sampled_from(ZONES)
wall_times = st.builds(
    datetime.time, st.integers(0, 23), st.integers(0, 59), st.sampled_from([0, 0, 0, 30, 59])
)
# Instants near daylight-saving changes of the sampled zones, where the bugs live.
CLOCK_CHANGES = [
    datetime.datetime(2025, 3, 9, 7, 0, tzinfo=UTC),  # New York, spring
    datetime.datetime(2025, 11, 2, 6, 0, tzinfo=UTC),  # New York, autumn
    datetime.datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # London, spring
    datetime.datetime(2025, 10, 26, 1, 0, tzinfo=UTC),  # London, autumn
    datetime.datetime(2025, 4, 5, 15, 0, tzinfo=UTC),  # Lord Howe, back 30 minutes
    datetime.datetime(2025, 10, 4, 15, 30, tzinfo=UTC),  # Lord Howe, forward 30 minutes
    datetime.datetime(2025, 4, 5, 14, 0, tzinfo=UTC),  # Chatham, back
    datetime.datetime(2025, 9, 27, 14, 0, tzinfo=UTC),  # Chatham, forward
]
instants = st.one_of(
    st.datetimes(
        min_value=datetime.datetime(2000, 1, 1),
        max_value=datetime.datetime(2037, 12, 31),
        timezones=st.just(UTC),
    ),
    st.builds(
        lambda change, minutes: change + datetime.timedelta(minutes=minutes),
        st.sampled_from(CLOCK_CHANGES),
        st.integers(-36 * 60, 36 * 60),
    ),
)


@settings(deadline=None)
@given(local_time=wall_times, start=wall_times, end=wall_times)
def test_a_window_and_its_complement_split_the_day(local_time, start, end):
    if start != end:
        assert in_quiet_hours(local_time, start, end) != in_quiet_hours(local_time, end, start)


@settings(deadline=None)
@given(now=instants, tz=zones, start=wall_times, end=wall_times)
def test_release_is_after_now_and_outside_the_window(now, tz, start, end):
    release = quiet_hours_release(now, tz, start, end)
    if not in_quiet_hours(now.astimezone(tz).time(), start, end):
        assert release is None
        return
    assert release is not None
    assert release.utcoffset() is not None
    assert release > now
    assert not in_quiet_hours(release.astimezone(tz).time(), start, end)
    assert release - now <= datetime.timedelta(hours=48)
    if release.astimezone(tz).time() == end:  # i.e. not a day whose `end` clocks skip
        # The earliest release: the recipient is still in quiet hours all the way until it.
        minute = datetime.timedelta(minutes=1)
        for step in range(1, (release - now) // minute + 1):
            moment = now + step * minute
            if moment < release:
                assert in_quiet_hours(moment.astimezone(tz).time(), start, end), moment
    if tz.key in FIXED_OFFSET_ZONES:
        assert release.astimezone(tz).time() == end
        assert release - now <= datetime.timedelta(hours=24)


@settings(deadline=None)
@given(
    now=instants,
    tz=zones,
    preference=st.sampled_from(["morning", "afternoon", "evening", "custom"]),
    custom_time=st.none() | wall_times,
)
def test_digest_time_is_the_first_local_occurrence_at_or_after_now(
    now, tz, preference, custom_time
):
    digest = next_digest_time(now, tz, preference, custom_time)
    assert digest.utcoffset() is not None
    assert now <= digest <= now + datetime.timedelta(hours=25)
    if tz.key in FIXED_OFFSET_ZONES:
        expected = custom_time if preference == "custom" else DIGEST_TIMES[preference]
        assert digest.astimezone(tz).time() == (expected or t("08:00"))
        assert digest - now < datetime.timedelta(hours=24)


preferences = st.builds(
    UserNotificationPreferences,
    in_app_notifications_enabled=st.booleans(),
    email_notifications_enabled=st.booleans(),
    sms_notifications_enabled=st.booleans(),
    push_notifications_enabled=st.booleans(),
    medication_reminders_enabled=st.booleans(),
    stock_alerts_enabled=st.booleans(),
    system_notifications_enabled=st.booleans(),
    email_time_preference=st.sampled_from(list(EmailTimePreference)),
    email_custom_time=st.none() | wall_times,
    quiet_hours_enabled=st.booleans(),
    quiet_hours_start=wall_times,
    quiet_hours_end=wall_times,
)


@settings(deadline=None)
@given(
    prefs=preferences,
    now=instants,
    tz=zones,
    channel=st.sampled_from(list(Channel)),
    notification_type=st.sampled_from(list(NotificationType)),
    priority=st.sampled_from(list(Priority)),
    has_address=st.booleans(),
)
def test_decide_is_consistent_for_any_input(
    prefs, now, tz, channel, notification_type, priority, has_address
):
    decision = decide(
        channel=channel,
        notification_type=notification_type,
        priority=priority,
        prefs=prefs,
        tz=tz,
        now=now,
        has_address=has_address,
    )
    assert decision.not_before.utcoffset() is not None
    assert decision.digest is (decision.reason == DeferReason.EMAIL_DIGEST)
    if decision.action != Action.DEFER:
        assert decision.not_before == now
        assert decision.reason in {"", *SkipReason}
        return
    assert channel != Channel.IN_APP
    assert priority != Priority.CRITICAL
    assert decision.not_before >= now
    if decision.reason == DeferReason.QUIET_HOURS:
        assert decision.not_before > now
    if prefs.quiet_hours_enabled:
        local = decision.not_before.astimezone(tz).time()
        assert not in_quiet_hours(local, prefs.quiet_hours_start, prefs.quiet_hours_end)
    if not prefs.channel_enabled(channel) or not has_address:
        pytest.fail("a delivery that cannot go out was deferred")


@settings(deadline=None)
@given(
    attempt=st.integers(1, 200),
    base=st.floats(0, 3600),
    cap=st.floats(0, 86400),
    seed=st.integers(0, 2**32),
)
def test_retry_delay_stays_between_zero_and_the_doubled_ceiling(attempt, base, cap, seed):
    delay = retry_delay(attempt, base_seconds=base, max_seconds=cap, rng=random.Random(seed))
    assert 0 <= delay <= min(cap, base * 2 ** (attempt - 1))
