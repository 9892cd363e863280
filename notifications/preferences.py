"""Reading users' notification preferences, with the defaults for users who never saved any."""

from __future__ import annotations

from collections.abc import Iterable

from .models import UserNotificationPreferences


def preferences_for(user_ids: Iterable[int]) -> dict[int, UserNotificationPreferences]:
    """Preferences of many users in one query. Users without a row share one unsaved
    instance holding the field defaults (building a model per user costs more than the
    query); treat what this returns as read-only."""
    ids = set(user_ids)
    found = {p.user_id: p for p in UserNotificationPreferences.objects.filter(user_id__in=ids)}
    defaults = UserNotificationPreferences()
    return {user_id: found.get(user_id) or defaults for user_id in ids}


def get_preferences(user_id: int) -> UserNotificationPreferences:
    """One user's preferences; an unsaved instance with the defaults if they have none."""
    found = UserNotificationPreferences.objects.filter(user_id=user_id).first()
    return found or UserNotificationPreferences(user_id=user_id)
