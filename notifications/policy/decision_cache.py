"""Deciding for many recipients at once: the policy's ``decide`` memoised over what it reads.

Used by the fan-out (when a send is recorded) and by the worker (when it is sent), so the
same rule answers both times.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from notifications.policy.decisions import Decision, decide

if TYPE_CHECKING:
    from notifications.models import UserNotificationPreferences


class UserContact(NamedTuple):
    """What a send needs to know about a user: how they can be reached, where they live
    (their time zone) and whether the account is active. Read as tuples, not model
    instances, because a fan-out to 100,000 users must not build 100,000 models."""

    id: int
    has_email: bool
    has_phone: bool
    timezone: ZoneInfo
    is_active: bool


class DecisionCache:
    """``decide`` memoised per (type, priority, preferences, time zone, channel, address).

    Users who never saved preferences share the defaults, so a broadcast to 100,000 people
    makes a handful of distinct decisions, not 400,000.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.cache: dict[tuple[object, ...], Decision] = {}

    def __call__(
        self,
        notification_type: str,
        priority: str,
        user: UserContact,
        prefs: UserNotificationPreferences,
        channel: str,
        has_address: bool,
        *,
        digest_due: bool = False,
    ) -> Decision:
        key = (
            notification_type,
            priority,
            prefs.pk if prefs.pk is not None else "defaults",
            user.timezone.key,
            channel,
            has_address,
            digest_due,
        )
        decision = self.cache.get(key)
        if decision is None:
            decision = self.cache[key] = decide(
                channel=channel,
                notification_type=notification_type,
                priority=priority,
                prefs=prefs,
                tz=user.timezone,
                now=self.now,
                has_address=has_address,
                digest_due=digest_due,
            )
        return decision
