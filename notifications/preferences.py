"""Reading users' notification preferences, with the defaults for users who never saved any."""

from __future__ import annotations

from collections.abc import Iterable

from .models import UserNotificationPreferences


def preferences_for(user_ids: Iterable[int]) -> dict[int, UserNotificationPreferences]:
    """Preferences of many users in one query; a user without a row gets an unsaved
    instance holding the field defaults."""
    ids = set(user_ids)
    found = {p.user_id: p for p in UserNotificationPreferences.objects.filter(user_id__in=ids)}
    return {
        user_id: found.get(user_id) or UserNotificationPreferences(user_id=user_id)
        for user_id in ids
    }


def get_preferences(user_id: int) -> UserNotificationPreferences:
    return preferences_for([user_id])[user_id]
