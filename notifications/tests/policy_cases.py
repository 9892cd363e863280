"""Shared zones, instants and helpers for the delivery-policy tests (no database)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from notifications.models.preferences import UserNotificationPreferences
from notifications.policy.decisions import (
    Decision,
    decide,
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
