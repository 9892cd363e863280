"""Serializers of the caller's inbox and preferences. Fields are listed explicitly."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from notifications.models import (
    EmailTimePreference,
    NotificationType,
    Priority,
    RecipientStatus,
    UserNotificationPreferences,
)

from .inbox_items import InboxItem
from .validation import HourMinuteField, StrictFieldsMixin


class InboxQuerySerializer(serializers.Serializer):
    """`?status=` and `?type=`, combinable; an unknown value is a 400 naming the parameter.
    Documents the parameters; ``inbox_filters`` checks them."""

    status = serializers.ChoiceField(
        choices=RecipientStatus.choices,
        required=False,
        help_text="Only notifications in this state. Without it, dismissed ones are left out.",
    )
    type = serializers.ChoiceField(
        choices=NotificationType.choices,
        required=False,
        help_text="Only notifications of this type.",
    )


# The same checks without building a serializer on every poll of the inbox (its fields
# are deep-copied per instance: a third of a millisecond).
_INBOX_FILTERS = {
    "status": serializers.ChoiceField(choices=RecipientStatus.choices),
    "type": serializers.ChoiceField(choices=NotificationType.choices),
}


def inbox_filters(params: Mapping[str, str]) -> dict[str, str | None]:
    """``status`` and ``type`` from the query string (None when absent), or a 400 naming
    each bad one, in the caller's language."""
    values: dict[str, str | None] = {}
    errors = {}
    for name, field in _INBOX_FILTERS.items():
        raw = params.get(name)
        try:
            values[name] = None if raw is None else field.to_internal_value(raw)
        except serializers.ValidationError as error:
            errors[name] = error.detail
    if errors:
        raise serializers.ValidationError(errors)
    return values


class InboxItemSerializer(serializers.Serializer):
    """One notification in the caller's inbox (an ``InboxItem``); ``id`` is the
    notification's id, the one the action endpoints take."""

    id = serializers.IntegerField(source="recipient.notification_id", read_only=True)
    title = serializers.CharField(read_only=True)
    content = serializers.CharField(read_only=True)
    type = serializers.ChoiceField(
        source="recipient.notification.notification_type",
        choices=NotificationType.choices,
        read_only=True,
    )
    priority = serializers.ChoiceField(
        source="recipient.notification.priority", choices=Priority.choices, read_only=True
    )
    status = serializers.ChoiceField(
        source="recipient.status", choices=RecipientStatus.choices, read_only=True
    )
    require_acknowledgment = serializers.BooleanField(
        source="recipient.notification.require_acknowledgment", read_only=True
    )
    created = serializers.DateTimeField(source="recipient.created_at", read_only=True)
    read_at = serializers.DateTimeField(source="recipient.read_at", read_only=True, allow_null=True)
    acknowledged_at = serializers.DateTimeField(
        source="recipient.acknowledged_at", read_only=True, allow_null=True
    )
    dismissed_at = serializers.DateTimeField(
        source="recipient.dismissed_at", read_only=True, allow_null=True
    )

    def to_representation(self, instance: InboxItem) -> dict[str, Any]:
        return inbox_item_data(instance, timezone.get_current_timezone())


def inbox_items_data(items: Sequence[InboxItem]) -> list[dict[str, Any]]:
    """``InboxItemSerializer(items, many=True).data``, without DRF's per-item machinery:
    a list serializer and a dotted source walked per field cost more than half a
    millisecond of a 20-item page (bench/api.py)."""
    zone = timezone.get_current_timezone()
    return [inbox_item_data(item, zone) for item in items]


def inbox_item_data(item: InboxItem, zone: tzinfo) -> dict[str, Any]:
    """The fields of ``InboxItemSerializer``, written out."""
    recipient = item.recipient
    notification = recipient.notification
    return {
        "id": recipient.notification_id,
        "title": item.title,
        "content": item.content,
        "type": notification.notification_type,
        "priority": notification.priority,
        "status": recipient.status,
        "require_acknowledgment": notification.require_acknowledgment,
        "created": _iso(recipient.created_at, zone),
        "read_at": _iso(recipient.read_at, zone),
        "acknowledged_at": _iso(recipient.acknowledged_at, zone),
        "dismissed_at": _iso(recipient.dismissed_at, zone),
    }


_DATETIME = serializers.DateTimeField()


def _iso(value: datetime.datetime | None, zone: tzinfo) -> str | None:
    """As DRF's DateTimeField writes it (ISO 8601 in the current time zone, UTC as "Z"),
    in a fifth of the time: the zone is looked up once per page, not per field."""
    if value is None:
        return None
    if value.tzinfo is None:  # never from the database with USE_TZ; DRF decides then
        return str(_DATETIME.to_representation(value))
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(read_only=True, min_value=0)


class MarkAllReadSerializer(serializers.Serializer):
    updated = serializers.IntegerField(read_only=True, min_value=0)


PREFERENCE_FIELDS = (
    "in_app_notifications_enabled",
    "email_notifications_enabled",
    "sms_notifications_enabled",
    "push_notifications_enabled",
    "medication_reminders_enabled",
    "stock_alerts_enabled",
    "system_notifications_enabled",
    "show_medication_names_in_sms_push",
    "email_time_preference",
    "email_custom_time",
    "quiet_hours_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
)


class PreferencesSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Every field is optional on input: a write changes the fields it names and keeps
    the rest (see the PUT description)."""

    email_time_preference = serializers.ChoiceField(
        choices=EmailTimePreference.choices, required=False
    )
    email_custom_time = HourMinuteField(required=False, allow_null=True)
    quiet_hours_start = HourMinuteField(required=False)
    quiet_hours_end = HourMinuteField(required=False)

    class Meta:
        model = UserNotificationPreferences
        fields = (*PREFERENCE_FIELDS, "updated_at")
        read_only_fields = ("updated_at",)
        extra_kwargs = {name: {"required": False} for name in PREFERENCE_FIELDS}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The model's own rule ("custom" needs a time), checked on the values as they will
        # be after this write: the ones given over the ones stored.
        current = {name: getattr(self.instance, name) for name in PREFERENCE_FIELDS}
        merged = UserNotificationPreferences(**{**current, **attrs})
        try:
            merged.clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs
