"""The delivery policy: every rule, its boundaries, the order of the rules, and properties over
times, windows and time zones. Plain functions: no database."""

from __future__ import annotations

import dataclasses
import datetime
import random
from zoneinfo import ZoneInfo

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
    Decision,
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

UTC = datetime.UTC
JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
CHATHAM = ZoneInfo("Pacific/Chatham")
KOLKATA = ZoneInfo("Asia/Kolkata")
ZONES = [
    JOHANNESBURG,
    LONDON,
    NEW_YORK,
    LORD_HOWE,
    CHATHAM,
    KOLKATA,
    ZoneInfo("UTC"),
]
# Zones without daylight saving time: there the local clock reads exactly `end` at release.
FIXED_OFFSET_ZONES = {"Africa/Johannesburg", "Asia/Kolkata", "UTC"}


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def at(tz: ZoneInfo, *fields: int, fold: int = 0) -> datetime.datetime:
    return datetime.datetime(*fields, tzinfo=tz, fold=fold)


def quiet_prefs(start: str = "22:00", end: str = "07:00", **fields: object):
    return UserNotificationPreferences(
        quiet_hours_enabled=True, quiet_hours_start=start, quiet_hours_end=end, **fields
    )


def decide_for(
    prefs: UserNotificationPreferences,
    now: datetime.datetime,
    *,
    channel: str = "push",
    notification_type: str = "medication",
    priority: str = "medium",
    tz: ZoneInfo = JOHANNESBURG,
    has_address: bool = True,
) -> Decision:
    return decide(
        channel=channel,
        notification_type=notification_type,
        priority=priority,
        prefs=prefs,
        tz=tz,
        now=now,
        has_address=has_address,
    )


# A Tuesday in June in Johannesburg (UTC+2, no daylight saving time).
EVENING = at(JOHANNESBURG, 2025, 6, 10, 23, 30)
DAYTIME = at(JOHANNESBURG, 2025, 6, 10, 10, 0)
NEXT_MORNING_SEVEN = at(JOHANNESBURG, 2025, 6, 11, 7, 0)


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


# --- decide: the rules in order ------------------------------------------------------------


def test_reminder_with_default_preferences_is_sent_now():
    assert decide_for(UserNotificationPreferences(), DAYTIME) == Decision(Action.SEND, DAYTIME)
    assert decide_for(UserNotificationPreferences(), DAYTIME).reason == ""


@pytest.mark.parametrize("priority", list(Priority))
def test_disabled_channel_skips_every_priority(priority):
    prefs = UserNotificationPreferences(push_notifications_enabled=False)
    decision = decide_for(prefs, DAYTIME, priority=priority)
    assert decision == Decision(Action.SKIP, DAYTIME, SkipReason.CHANNEL_DISABLED)


def test_sms_is_off_unless_the_user_turns_it_on():
    decision = decide_for(UserNotificationPreferences(), DAYTIME, channel="sms")
    assert decision.reason == "channel_disabled"
    prefs = UserNotificationPreferences(sms_notifications_enabled=True)
    assert decide_for(prefs, DAYTIME, channel="sms").action == Action.SEND


def test_disabled_in_app_channel_skips_the_in_app_copy():
    prefs = UserNotificationPreferences(in_app_notifications_enabled=False)
    assert decide_for(prefs, DAYTIME, channel="in_app").reason == SkipReason.CHANNEL_DISABLED


def test_disabled_channel_beats_disabled_category_and_missing_address():
    prefs = UserNotificationPreferences(
        email_notifications_enabled=False, medication_reminders_enabled=False
    )
    decision = decide_for(prefs, DAYTIME, channel="email", has_address=False)
    assert decision.reason == SkipReason.CHANNEL_DISABLED


@pytest.mark.parametrize(
    ("notification_type", "switch"),
    [
        ("medication", "medication_reminders_enabled"),
        ("stock", "stock_alerts_enabled"),
        ("expiry", "stock_alerts_enabled"),
        ("system", "system_notifications_enabled"),
        ("maintenance", "system_notifications_enabled"),
        ("general", "system_notifications_enabled"),
    ],
)
@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_disabled_category_skips_non_critical_notifications(notification_type, switch, priority):
    prefs = UserNotificationPreferences(**{switch: False})
    decision = decide_for(prefs, DAYTIME, notification_type=notification_type, priority=priority)
    assert decision == Decision(Action.SKIP, DAYTIME, SkipReason.CATEGORY_DISABLED)


def test_critical_notification_beats_disabled_category():
    prefs = UserNotificationPreferences(stock_alerts_enabled=False)
    decision = decide_for(prefs, DAYTIME, notification_type="stock", priority="critical")
    assert decision == Decision(Action.SEND, DAYTIME)


@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_security_notification_beats_disabled_system_category(priority):
    prefs = UserNotificationPreferences(system_notifications_enabled=False)
    decision = decide_for(prefs, DAYTIME, notification_type="security", priority=priority)
    assert decision == Decision(Action.SEND, DAYTIME)


def test_security_notification_still_waits_for_the_end_of_quiet_hours():
    prefs = quiet_prefs(system_notifications_enabled=False)
    decision = decide_for(prefs, EVENING, notification_type="security", priority="high")
    assert decision == Decision(Action.DEFER, NEXT_MORNING_SEVEN, DeferReason.QUIET_HOURS)


def test_missing_address_skips():
    decision = decide_for(UserNotificationPreferences(), DAYTIME, has_address=False)
    assert decision == Decision(Action.SKIP, DAYTIME, SkipReason.NO_ADDRESS)


def test_missing_address_skips_even_a_critical_notification():
    decision = decide_for(
        UserNotificationPreferences(), DAYTIME, priority="critical", has_address=False
    )
    assert decision.reason == SkipReason.NO_ADDRESS


def test_disabled_category_beats_missing_address():
    prefs = UserNotificationPreferences(medication_reminders_enabled=False)
    decision = decide_for(prefs, DAYTIME, has_address=False)
    assert decision.reason == SkipReason.CATEGORY_DISABLED


def test_in_app_copy_is_never_held_by_quiet_hours():
    decision = decide_for(quiet_prefs(), EVENING, channel="in_app", priority="low")
    assert decision == Decision(Action.SEND, EVENING)


def test_critical_notification_beats_quiet_hours():
    decision = decide_for(quiet_prefs(), EVENING, priority="critical")
    assert decision == Decision(Action.SEND, EVENING)


def test_critical_email_beats_the_digest():
    prefs = UserNotificationPreferences(email_time_preference="morning")
    decision = decide_for(prefs, DAYTIME, channel="email", priority="critical")
    assert decision == Decision(Action.SEND, DAYTIME)


@pytest.mark.parametrize("priority", ["low", "medium"])
def test_non_urgent_email_waits_for_the_digest(priority):
    prefs = UserNotificationPreferences(email_time_preference="evening")
    decision = decide_for(prefs, DAYTIME, channel="email", priority=priority)
    assert decision == Decision(
        Action.DEFER,
        at(JOHANNESBURG, 2025, 6, 10, 20, 0),
        DeferReason.EMAIL_DIGEST,
        digest=True,
    )


def test_high_priority_email_does_not_wait_for_the_digest():
    prefs = UserNotificationPreferences(email_time_preference="evening")
    decision = decide_for(prefs, DAYTIME, channel="email", priority="high")
    assert decision == Decision(Action.SEND, DAYTIME)


def test_high_priority_email_in_quiet_hours_waits_for_the_window_end_not_the_digest():
    prefs = quiet_prefs(email_time_preference="evening")
    decision = decide_for(prefs, EVENING, channel="email", priority="high")
    assert decision == Decision(Action.DEFER, NEXT_MORNING_SEVEN, DeferReason.QUIET_HOURS)


def test_immediate_email_is_sent_now():
    decision = decide_for(UserNotificationPreferences(), DAYTIME, channel="email", priority="low")
    assert decision == Decision(Action.SEND, DAYTIME)


def test_custom_digest_email_waits_for_the_users_time():
    prefs = UserNotificationPreferences(email_time_preference="custom", email_custom_time="17:30")
    decision = decide_for(prefs, DAYTIME, channel="email", priority="low")
    assert decision.not_before == at(JOHANNESBURG, 2025, 6, 10, 17, 30)
    assert decision.digest is True


def test_digest_inside_quiet_hours_is_pushed_to_the_window_end():
    prefs = quiet_prefs("19:00", "07:00", email_time_preference="evening")
    decision = decide_for(prefs, DAYTIME, channel="email", priority="low")
    assert decision == Decision(
        Action.DEFER, NEXT_MORNING_SEVEN, DeferReason.EMAIL_DIGEST, digest=True
    )


def test_digest_exactly_at_the_window_end_is_not_pushed():
    prefs = quiet_prefs("22:00", "08:00", email_time_preference="morning")
    decision = decide_for(prefs, EVENING, channel="email", priority="low")
    assert decision.not_before == at(JOHANNESBURG, 2025, 6, 11, 8, 0)


def test_digest_inside_disabled_quiet_hours_is_not_pushed():
    prefs = UserNotificationPreferences(
        quiet_hours_start="19:00", quiet_hours_end="07:00", email_time_preference="evening"
    )
    decision = decide_for(prefs, DAYTIME, channel="email", priority="low")
    assert decision.not_before == at(JOHANNESBURG, 2025, 6, 10, 20, 0)


def test_email_written_during_quiet_hours_waits_for_the_digest_not_the_window_end():
    prefs = quiet_prefs(email_time_preference="morning")
    decision = decide_for(prefs, EVENING, channel="email", priority="medium")
    assert decision == Decision(
        Action.DEFER,
        at(JOHANNESBURG, 2025, 6, 11, 8, 0),
        DeferReason.EMAIL_DIGEST,
        digest=True,
    )


def test_email_written_exactly_at_digest_time_joins_that_digest():
    now = at(JOHANNESBURG, 2025, 6, 10, 14, 0)
    prefs = UserNotificationPreferences(email_time_preference="afternoon")
    decision = decide_for(prefs, now, channel="email", priority="low")
    assert decision == Decision(Action.DEFER, now, DeferReason.EMAIL_DIGEST, digest=True)


@pytest.mark.parametrize("channel", ["push", "sms", "email"])
@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_reminder_in_quiet_hours_is_deferred_to_window_end(channel, priority):
    prefs = quiet_prefs(sms_notifications_enabled=True)
    decision = decide_for(prefs, EVENING, channel=channel, priority=priority)
    assert decision == Decision(Action.DEFER, NEXT_MORNING_SEVEN, DeferReason.QUIET_HOURS)


def test_reminder_exactly_at_quiet_hours_end_is_sent():
    decision = decide_for(quiet_prefs(), NEXT_MORNING_SEVEN)
    assert decision == Decision(Action.SEND, NEXT_MORNING_SEVEN)


def test_reminder_at_night_is_sent_when_quiet_hours_are_off():
    prefs = UserNotificationPreferences(quiet_hours_start="22:00", quiet_hours_end="07:00")
    assert decide_for(prefs, EVENING) == Decision(Action.SEND, EVENING)


def test_reminder_with_an_empty_quiet_window_is_sent():
    assert decide_for(quiet_prefs("22:00", "22:00"), EVENING) == Decision(Action.SEND, EVENING)


def test_reminder_is_held_by_the_recipients_night_not_the_servers():
    now = datetime.datetime(2025, 6, 10, 21, 0, tzinfo=UTC)  # 23:00 SAST, 17:00 EDT
    assert decide_for(quiet_prefs(), now, tz=JOHANNESBURG).action == Action.DEFER
    assert decide_for(quiet_prefs(), now, tz=NEW_YORK) == Decision(Action.SEND, now)


@pytest.mark.parametrize(
    ("field", "value"),
    [("channel", "fax"), ("notification_type", "gossip"), ("priority", "urgent")],
)
def test_decide_rejects_unknown_values(field, value):
    with pytest.raises(ValueError, match=value):
        decide_for(UserNotificationPreferences(), DAYTIME, **{field: value})


def test_decide_rejects_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        decide_for(UserNotificationPreferences(), datetime.datetime(2025, 6, 10, 10, 0))


def test_decision_is_immutable():
    decision = Decision(Action.SEND, DAYTIME)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.action = Action.SKIP


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
        ("email", False, False),  # a mail preview on a lock screen, like SMS and push
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
