"""The delivery decision: every rule, its boundaries and the order of the rules."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from notifications.models.choices import (
    Priority,
)
from notifications.models.preferences import UserNotificationPreferences
from notifications.policy.decisions import (
    Action,
    Decision,
    DeferReason,
    SkipReason,
)
from notifications.tests.policy_cases import (
    DAYTIME,
    EVENING,
    JOHANNESBURG,
    NEW_YORK,
    NEXT_MORNING_SEVEN,
    UTC,
    at,
    decide_for,
    quiet_prefs,
)

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
