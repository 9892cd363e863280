"""Whether, and when, a notification goes out on one channel.

Pure functions (no database, no settings), so every rule is tested exhaustively and the worker
can cheaply re-check a decision at send time: preferences may change while a delivery waits.
Invalid input raises ``ValueError``: an unknown channel, notification type, priority or email
time preference, a naive ``now``, an ``attempt`` below 1 or a negative delay.
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from notifications.models.choices import (
    CATEGORY_OF_TYPE,
    Channel,
    EmailTimePreference,
    NotificationType,
    Priority,
)

if TYPE_CHECKING:
    from notifications.models.preferences import UserNotificationPreferences

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)


class Action(StrEnum):
    SEND = "send"  # go now
    DEFER = "defer"  # go at decision.not_before
    SKIP = "skip"  # never (decision.reason says why)


class SkipReason(StrEnum):
    CHANNEL_DISABLED = "channel_disabled"
    CATEGORY_DISABLED = "category_disabled"
    NO_ADDRESS = "no_address"  # no email address / no phone / no active push device
    USER_INACTIVE = "user_inactive"  # the account was deactivated before the send
    DUPLICATE = "duplicate"  # a repeated send: the delivery already exists


class DeferReason(StrEnum):
    QUIET_HOURS = "quiet_hours"
    EMAIL_DIGEST = "email_digest"


@dataclass(frozen=True)
class Decision:
    """``not_before`` is always aware: ``now`` for SEND and SKIP, the release time for DEFER."""

    action: Action
    not_before: datetime.datetime
    reason: str = ""  # "" for a plain SEND, else a SkipReason or DeferReason value
    digest: bool = False  # email that waits for (or, when due, goes out in) the user's digest


DIGEST_TIMES: dict[str, datetime.time] = {
    EmailTimePreference.MORNING: datetime.time(8, 0),
    EmailTimePreference.AFTERNOON: datetime.time(14, 0),
    EmailTimePreference.EVENING: datetime.time(20, 0),
}

# High priority is urgent enough to beat the digest, but not quiet hours; critical beats both.
_DIGESTIBLE_PRIORITIES = frozenset({Priority.LOW, Priority.MEDIUM})


def _require_aware(now: datetime.datetime) -> None:
    # A naive datetime would be read in the server's zone by astimezone(): exactly the bug
    # that sends a reminder at 3 a.m. to a user abroad.
    if now.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {now!r}")


def in_quiet_hours(local_time: datetime.time, start: datetime.time, end: datetime.time) -> bool:
    """Whether the wall-clock ``local_time`` (naive, in the recipient's zone) is in [start, end).

    The end is exclusive so a message at exactly ``end`` goes out. ``start > end`` wraps
    midnight (22:00-07:00 covers 23:30 and 06:59, not 07:00 or 21:59). ``start == end`` is an
    empty window, never quiet: "always quiet" would hold every message with no time to release.
    """
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end


def _instants_at(
    day: datetime.date, wall_time: datetime.time, tz: zoneinfo.ZoneInfo
) -> list[datetime.datetime]:
    """The instants (UTC, earliest first) at which clocks in ``tz`` read ``wall_time`` on ``day``.

    Usually one; two when the clocks go back through it (the repeated autumn hour). When the
    clocks spring forward over it there is none, and we use ``wall_time`` read with the offset
    from before the jump (zoneinfo's fold=0), which lands after the jump: late rather than
    early, so nobody is woken inside their quiet hours.
    """
    local = datetime.datetime.combine(day, wall_time, tzinfo=tz).replace(fold=0)
    first = local.astimezone(UTC)
    second = local.replace(fold=1).astimezone(UTC)
    return [first, second] if second > first else [first]


def quiet_hours_release(
    now: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
    start: datetime.time,
    end: datetime.time,
) -> datetime.datetime | None:
    """When the quiet window containing ``now`` ends (aware, UTC); None outside quiet hours.

    Evaluated in the recipient's zone ``tz``, never the server's. The release is the first
    instant after ``now`` at which the local clock reads ``end``: today's when the local time is
    before ``end``, else tomorrow's. UTC, because comparing two datetimes that share a ZoneInfo
    ignores the fold and so gets the repeated autumn hour wrong.
    """
    _require_aware(now)
    local_now = now.astimezone(tz)
    if not in_quiet_hours(local_now.time(), start, end):
        return None
    day = local_now.date()
    while True:  # ends by tomorrow at the latest: tomorrow's `end` is outside the window
        for release in _instants_at(day, end, tz):
            # In the repeated hour today's first `end` may already be behind us; and a
            # spring-forward gap can put the fold=0 reading of `end` back inside a long window.
            if release > now and not in_quiet_hours(release.astimezone(tz).time(), start, end):
                return release
        day += ONE_DAY


def next_digest_time(
    now: datetime.datetime,
    tz: zoneinfo.ZoneInfo,
    preference: str,
    custom_time: datetime.time | None,
) -> datetime.datetime:
    """The first instant at or after ``now`` at which the clock in ``tz`` reads the preferred
    email time (aware, UTC); ``now`` itself for "immediate". "custom" without a time falls back
    to the morning: clean() forbids it, but a row saved around the form must not lose email.
    """
    _require_aware(now)
    preference = EmailTimePreference(preference)
    if preference == EmailTimePreference.IMMEDIATE:
        return now
    if preference == EmailTimePreference.CUSTOM:
        digest_time = (
            DIGEST_TIMES[EmailTimePreference.MORNING] if custom_time is None else custom_time
        )
    else:
        digest_time = DIGEST_TIMES[preference]
    day = now.astimezone(tz).date()
    while True:  # ends by tomorrow at the latest
        for instant in _instants_at(day, digest_time, tz):
            if instant >= now:
                return instant
        day += ONE_DAY


def decide(
    *,
    channel: str,
    notification_type: str,
    priority: str,
    prefs: UserNotificationPreferences,
    tz: zoneinfo.ZoneInfo,
    now: datetime.datetime,
    has_address: bool,
    digest_due: bool = False,
) -> Decision:
    """Send, defer or skip one delivery; the rules apply in this order, first match wins.

    ``digest_due``: the delivery waits in the user's digest and its digest time has come
    (the worker sending the digest asks): it goes now unless quiet hours hold it, perhaps
    ones the user set after it was deferred.
    """
    channel = Channel(channel)
    priority = Priority(priority)
    notification_type = NotificationType(notification_type)
    category = CATEGORY_OF_TYPE[notification_type]
    _require_aware(now)

    # The user's "off" for a channel is absolute, even for critical messages: they chose how
    # they can be reached, and critical alerts still reach them on the channels left on.
    if not prefs.channel_enabled(channel):
        return Decision(Action.SKIP, now, SkipReason.CHANNEL_DISABLED)
    # Safety (critical) and account-security messages must not be lost to a category switch.
    overrides_category = (
        priority == Priority.CRITICAL or notification_type == NotificationType.SECURITY
    )
    if not prefs.category_enabled(category) and not overrides_category:
        return Decision(Action.SKIP, now, SkipReason.CATEGORY_DISABLED)
    if not has_address:
        return Decision(Action.SKIP, now, SkipReason.NO_ADDRESS)
    # The in-app copy disturbs nobody (it waits in the app), and a critical message must not
    # wait for a digest or the end of the night.
    if channel == Channel.IN_APP or priority == Priority.CRITICAL:
        return Decision(Action.SEND, now)

    if (
        channel == Channel.EMAIL
        and prefs.email_time_preference != EmailTimePreference.IMMEDIATE
        and priority in _DIGESTIBLE_PRIORITIES
    ):
        if digest_due:
            release = (
                quiet_hours_release(now, tz, prefs.quiet_hours_start, prefs.quiet_hours_end)
                if prefs.quiet_hours_enabled
                else None
            )
            if release is not None:
                return Decision(Action.DEFER, release, DeferReason.QUIET_HOURS, digest=True)
            return Decision(Action.SEND, now, digest=True)
        # A digest due this very instant still counts as a deferral (not_before == now) so the
        # email joins that batch rather than going out alone.
        digest_at = next_digest_time(now, tz, prefs.email_time_preference, prefs.email_custom_time)
        if prefs.quiet_hours_enabled:
            release = quiet_hours_release(
                digest_at, tz, prefs.quiet_hours_start, prefs.quiet_hours_end
            )
            if release is not None:
                digest_at = release
        return Decision(Action.DEFER, digest_at, DeferReason.EMAIL_DIGEST, digest=True)

    if prefs.quiet_hours_enabled:
        # Deferred, not dropped: a reminder held overnight is still worth reading at 07:00.
        release = quiet_hours_release(now, tz, prefs.quiet_hours_start, prefs.quiet_hours_end)
        if release is not None:
            return Decision(Action.DEFER, release, DeferReason.QUIET_HOURS)
    return Decision(Action.SEND, now)


_jitter_random = random.Random()  # noqa: S311 - jitter spreads retries; it guards no secret


def retry_delay(
    attempt: int,
    *,
    base_seconds: float,
    max_seconds: float,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    Exponential back-off with full jitter, uniform(0, min(max, base * 2**(attempt - 1))): a
    provider outage ends with retries spread out instead of a synchronized stampede.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if base_seconds < 0 or max_seconds < 0:
        raise ValueError("delays cannot be negative")
    # 2.0 ** 1024 overflows a float; long before that the cap has taken over.
    ceiling = min(max_seconds, base_seconds * 2.0 ** min(attempt - 1, 1023))
    return (rng or _jitter_random).uniform(0, ceiling)


def may_retry(attempts: int, max_attempts: int, permanent: bool) -> bool:
    """A permanent failure (invalid number, unsubscribed device) fails the same way each time,
    so only temporary failures are retried, and only while attempts remain."""
    if permanent:
        return False
    return attempts < max_attempts


def may_name_medication(channel: str, prefs: UserNotificationPreferences) -> bool:
    """SMS and push show on lock screens and shared phones, so they say "a medication" unless
    the user opted in; in-app and email sit behind the user's own login."""
    if Channel(channel) in (Channel.IN_APP, Channel.EMAIL):
        return True
    return bool(prefs.show_medication_names_in_sms_push)
