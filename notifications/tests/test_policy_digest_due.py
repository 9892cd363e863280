"""An email waiting in the digest, decided again when its digest time has come
(``decide(..., digest_due=True)``, what the worker sending the digest asks)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.models.preferences import UserNotificationPreferences
from notifications.policy.decisions import Action, Decision, decide

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
# Five past eight: the morning digest's time has just passed, as when the sweeper finds it.
MORNING = datetime.datetime(2026, 3, 10, 8, 5, tzinfo=JOHANNESBURG)


def due(prefs: UserNotificationPreferences, priority: str = "medium") -> Decision:
    return decide(
        channel="email",
        notification_type="stock",
        priority=priority,
        prefs=prefs,
        tz=JOHANNESBURG,
        now=MORNING,
        has_address=True,
        digest_due=True,
    )


def test_a_due_digest_email_goes_now_in_the_digest_not_to_tomorrows() -> None:
    prefs = UserNotificationPreferences(email_time_preference="morning")

    assert due(prefs) == Decision(Action.SEND, MORNING, digest=True)


def test_a_due_digest_email_waits_for_quiet_hours_set_since_and_stays_in_the_digest() -> None:
    prefs = UserNotificationPreferences(
        email_time_preference="morning",
        quiet_hours_enabled=True,
        quiet_hours_start="07:00",
        quiet_hours_end="09:00",
    )

    decision = due(prefs)

    assert decision == Decision(
        Action.DEFER, datetime.datetime(2026, 3, 10, 7, 0, tzinfo=datetime.UTC), "quiet_hours", True
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email_notifications_enabled": False}, "channel_disabled"),
        ({"stock_alerts_enabled": False}, "category_disabled"),
    ],
)
def test_a_due_digest_email_is_skipped_when_its_channel_or_category_was_switched_off(
    change, reason
) -> None:
    prefs = UserNotificationPreferences(email_time_preference="morning", **change)

    assert due(prefs) == Decision(Action.SKIP, MORNING, reason)


def test_a_due_digest_email_of_a_user_now_on_immediate_email_goes_now() -> None:
    prefs = UserNotificationPreferences(email_time_preference="immediate")

    assert due(prefs) == Decision(Action.SEND, MORNING)
