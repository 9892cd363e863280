"""Staff tools: broadcasting a system notification, and a notification's delivery report."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from notifications.models import Channel, NotificationType, Priority

from .validation import StrictFieldsMixin

CONTENT_MAX_LENGTH = 5000


class SystemNotificationSerializer(StrictFieldsMixin, serializers.Serializer):
    """A notification from staff to every user of the chosen types."""

    title = serializers.CharField(max_length=200)
    content = serializers.CharField(
        max_length=CONTENT_MAX_LENGTH, allow_blank=True, required=False, default=""
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    # Required and non-empty: a broadcast to every user must be asked for by listing
    # every user type, never reached by leaving the field out.
    target_user_types = serializers.ListField(
        child=serializers.ChoiceField(choices=get_user_model().UserType.choices),
        allow_empty=False,
        min_length=1,
        max_length=len(get_user_model().UserType.choices),
    )
    notification_type = serializers.ChoiceField(
        choices=NotificationType.choices, default=NotificationType.SYSTEM
    )
    require_acknowledgment = serializers.BooleanField(default=False)


class ChannelCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField(min_value=0)
    deferred = serializers.IntegerField(min_value=0)
    skipped = serializers.IntegerField(min_value=0)
    skipped_reasons = serializers.DictField(child=serializers.IntegerField(min_value=0))


class SendResultSerializer(serializers.Serializer):
    """``SendResult.as_dict()``."""

    notification_id = serializers.IntegerField()
    recipients = serializers.IntegerField(min_value=0)
    channels = serializers.DictField(
        child=ChannelCountsSerializer(),
        help_text="Per channel (" + ", ".join(Channel.values) + ").",
    )


class DeliveryStatusCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField(min_value=0)
    sending = serializers.IntegerField(min_value=0)
    sent = serializers.IntegerField(min_value=0)
    failed = serializers.IntegerField(min_value=0)
    skipped = serializers.IntegerField(min_value=0)
    cancelled = serializers.IntegerField(min_value=0)
    unknown = serializers.IntegerField(
        min_value=0, help_text="Sent with no answer: never resent blindly."
    )
    delivered = serializers.IntegerField(min_value=0, help_text="The provider reported delivery.")
    undelivered = serializers.IntegerField(min_value=0, help_text="The provider reported failure.")
    expired = serializers.IntegerField(min_value=0, help_text="Not delivered within its validity.")
    total = serializers.IntegerField(min_value=0)


class DeliveryReportSerializer(serializers.Serializer):
    notification_id = serializers.IntegerField()
    total = serializers.IntegerField(min_value=0)
    channels = serializers.DictField(
        child=DeliveryStatusCountsSerializer(),
        help_text="Only the channels the notification has deliveries on.",
    )
