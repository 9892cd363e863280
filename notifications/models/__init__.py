"""Notification models; `from notifications.models import Notification, ...` as the seed shows."""

from .choices import (
    CATEGORY_OF_TYPE,
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    EmailTimePreference,
    NotificationType,
    Priority,
    ReceiptStatus,
    RecipientStatus,
)
from .delivery import Delivery, DeliveryAttempt
from .devices import PushDevice
from .notification import Notification, NotificationRecipient
from .preferences import UserNotificationPreferences
from .receipts import DeliveryReceipt, PushTicket
from .templates import NotificationTemplate, TemplatePart

__all__ = [
    "CATEGORY_OF_TYPE",
    "AttemptOutcome",
    "Category",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryReceipt",
    "DeliveryStatus",
    "EmailTimePreference",
    "Notification",
    "NotificationRecipient",
    "NotificationTemplate",
    "NotificationType",
    "Priority",
    "PushDevice",
    "PushTicket",
    "ReceiptStatus",
    "RecipientStatus",
    "TemplatePart",
    "UserNotificationPreferences",
]
