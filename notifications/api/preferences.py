"""Saving a user's notification preferences (the read side is
``notifications.policy.preferences.get_preferences``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from notifications.models import UserNotificationPreferences


def save_preferences(user_id: int, changes: Mapping[str, Any]) -> UserNotificationPreferences:
    """Apply ``changes`` (already validated field values) to the user's preferences,
    creating the row on the first save. Fields not named keep their values.

    The row is locked and the model's rules re-checked inside the transaction, so two
    devices saving at once cannot combine into a state neither of them validated (e.g.
    "custom" email time without a time). Raises Django's ``ValidationError`` if they do.
    """
    with transaction.atomic():
        preferences, _ = UserNotificationPreferences.objects.select_for_update().get_or_create(
            user_id=user_id
        )
        for name, value in changes.items():
            setattr(preferences, name, value)
        preferences.clean()
        preferences.save()
    return preferences
