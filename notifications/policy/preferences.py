"""Reading users' notification preferences, with the defaults for users who never saved any."""

from __future__ import annotations

from collections.abc import Iterable

from notifications.models import UserNotificationPreferences


def preferences_for(user_ids: Iterable[int]) -> dict[int, UserNotificationPreferences]:
    """Preferences of many users in one query. Users without a row share one unsaved
    instance holding the field defaults (building a model per user costs more than the
    query); treat what this returns as read-only."""
    ids = set(user_ids)
    rows = UserNotificationPreferences.objects.filter(**user_id_filter(ids))
    found = {p.user_id: p for p in rows if p.user_id in ids}
    defaults = UserNotificationPreferences()
    return {user_id: found.get(user_id) or defaults for user_id in ids}


def user_id_filter(ids: set[int], field: str = "user_id") -> dict[str, object]:
    """Filter keyword arguments selecting rows whose ``field`` is one of these user ids. A
    dense set of ids (a keyset page of users) becomes a range, two parameters instead of
    thousands: binding a long IN list costs more than the query. Extra rows the range
    brings are dropped by the caller."""
    if ids and max(ids) - min(ids) < 4 * len(ids):
        return {f"{field}__gte": min(ids), f"{field}__lte": max(ids)}
    return {f"{field}__in": ids}


def get_preferences(user_id: int) -> UserNotificationPreferences:
    """One user's preferences; an unsaved instance with the defaults if they have none."""
    found = UserNotificationPreferences.objects.filter(user_id=user_id).first()
    return found or UserNotificationPreferences(user_id=user_id)
