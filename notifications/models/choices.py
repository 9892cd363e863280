"""The vocabularies of notifications, shared by models, policy and services."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationType(models.TextChoices):
    MEDICATION = "medication", _("Medication")
    STOCK = "stock", _("Stock")
    EXPIRY = "expiry", _("Expiry")
    SYSTEM = "system", _("System")
    MAINTENANCE = "maintenance", _("Maintenance")
    SECURITY = "security", _("Security")
    GENERAL = "general", _("General")
    # Direct marketing in POPIA s69's sense (clinic news, offers, surveys): only to people
    # who opted in (``staff_broadcasts_consent``), never as a service message.
    NEWS = "news", _("Clinic news")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")


class Category(models.TextChoices):
    """What a user opts in or out of, independent of the channel."""

    MEDICATION_REMINDERS = "medication_reminders", _("Medication reminders")
    STOCK_ALERTS = "stock_alerts", _("Stock and expiry alerts")
    SYSTEM = "system", _("System notifications")


CATEGORY_OF_TYPE: dict[str, Category] = {
    NotificationType.MEDICATION: Category.MEDICATION_REMINDERS,
    NotificationType.STOCK: Category.STOCK_ALERTS,
    NotificationType.EXPIRY: Category.STOCK_ALERTS,
    NotificationType.SYSTEM: Category.SYSTEM,
    NotificationType.MAINTENANCE: Category.SYSTEM,
    NotificationType.SECURITY: Category.SYSTEM,
    NotificationType.GENERAL: Category.SYSTEM,
    NotificationType.NEWS: Category.SYSTEM,
}


class RecipientStatus(models.TextChoices):
    """A recipient's own state: unread -> read -> acknowledged, or dismissed."""

    UNREAD = "unread", _("Unread")
    READ = "read", _("Read")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISMISSED = "dismissed", _("Dismissed")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")
    # The provider may have taken it (no answer came): never resent until reconciled.
    UNKNOWN = "unknown", _("Outcome unknown")


class AttemptOutcome(models.TextChoices):
    STARTED = "started", _("Started")
    SENT = "sent", _("Sent")
    TEMPORARY_FAILURE = "temporary_failure", _("Temporary failure")
    PERMANENT_FAILURE = "permanent_failure", _("Permanent failure")
    UNKNOWN = "unknown", _("No answer (outcome unknown)")


class ReceiptStatus(models.TextChoices):
    """What the provider last reported about a sent message (its delivery receipt)."""

    NONE = "", _("No receipt yet")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Undelivered")
    EXPIRED = "expired", _("Expired")


class EmailTimePreference(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    MORNING = "morning", _("Morning (08:00)")
    AFTERNOON = "afternoon", _("Afternoon (14:00)")
    EVENING = "evening", _("Evening (20:00)")
    CUSTOM = "custom", _("At a time I choose")
