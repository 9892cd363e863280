"""NotificationService: the one write path for notifications, as the seed document shows it.

    from notifications.services import NotificationService
    result = NotificationService.send_medication_reminder(user=user, medication_name="Aspirin",
                                                          dosage="100mg",
                                                          instructions="Take with food")

Every method validates first (``ValueError`` naming the bad value, nothing written), then
records in one transaction and returns a ``SendResult``; delivery happens in the workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from notifications.rendering.messages import english_copy
from notifications.sending.drafts import NotificationDraft, record_drafts
from notifications.sending.fanout import SendResult, record_send, validate_channels

from .events import EVENTS
from .models import Notification, NotificationType, Priority

if TYPE_CHECKING:
    from accounts.models import User

__all__ = ["NotificationDraft", "NotificationService", "SendResult"]

TITLE_MAX_LENGTH = Notification._meta.get_field("title").max_length or 200


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")


class NotificationService:
    """Class-level methods; there is no state to instantiate."""

    @classmethod
    def create_notification(
        cls,
        title: str,
        content: str,
        notification_type: str = NotificationType.GENERAL,
        priority: str = Priority.MEDIUM,
        target_users: Iterable[User] | QuerySet[User] | None = None,
        require_acknowledgment: bool = False,
        *,
        event: str = "custom",
        context: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        created_by: User | None = None,
    ) -> Notification:
        """Save a notification and show it in the app of ``target_users`` at once.

        Other channels follow with ``send_notification_to_user(s)``. With an
        ``idempotency_key`` that was used before, the earlier notification is returned and
        nothing new is written.
        """
        _check_choice("notification_type", notification_type, NotificationType.values)
        _check_choice("priority", priority, Priority.values)
        _check_choice("event", event, list(EVENTS))
        context = dict(context or {})
        if event == "custom":
            if not str(title).strip():
                raise ValueError("title must not be empty")
        else:
            title, content = english_copy(event, context)
        title = str(title).strip()[:TITLE_MAX_LENGTH]

        with transaction.atomic():
            notification = None
            if idempotency_key:
                notification = Notification.objects.filter(idempotency_key=idempotency_key).first()
            if notification is None:
                try:
                    with transaction.atomic():
                        notification = Notification.objects.create(
                            title=title,
                            content=str(content),
                            notification_type=notification_type,
                            priority=priority,
                            require_acknowledgment=require_acknowledgment,
                            event=event,
                            context=context,
                            idempotency_key=idempotency_key or None,
                            created_by=created_by,
                        )
                except IntegrityError:
                    # Another process created it with the same key between our read and
                    # our write: theirs is the one.
                    notification = Notification.objects.get(idempotency_key=idempotency_key)
            if target_users is not None:
                record_send(notification, target_users, ["in_app"])
        return notification

    @classmethod
    def send_notification_to_user(
        cls, user: User, notification: Notification, channels: Sequence[str] | None = None
    ) -> SendResult:
        """Deliver ``notification`` to one user on ``channels`` (None: every channel the
        user has on)."""
        return record_send(notification, [user], channels)

    @classmethod
    def send_notification_to_users(
        cls,
        users: Iterable[User] | QuerySet[User],
        notification: Notification,
        channels: Sequence[str] | None = None,
    ) -> SendResult:
        """The bulk path: recipients and deliveries written per batch of users, a constant
        number of queries per batch. ``users`` may be a queryset of any size."""
        return record_send(notification, users, channels)

    @classmethod
    def send_medication_reminder(
        cls,
        user: User,
        medication_name: str,
        dosage: str,
        instructions: str = "",
        *,
        dose_time: datetime | None = None,
        priority: str = Priority.HIGH,
        channels: Sequence[str] | None = None,
        idempotency_key: str | None = None,
        require_acknowledgment: bool = False,
    ) -> SendResult:
        """Remind ``user`` to take a medication, on every channel they have on. SMS and
        push name the medication only if the user chose so."""
        if not str(medication_name).strip():
            raise ValueError("medication_name must not be empty")
        validate_channels(channels)
        context: dict[str, Any] = {
            "medication_name": str(medication_name).strip(),
            "dosage": str(dosage).strip(),
            "instructions": str(instructions).strip(),
        }
        if dose_time is not None:
            context["dose_time"] = dose_time
        with transaction.atomic():
            notification = cls.create_notification(
                title="",
                content="",
                notification_type=NotificationType.MEDICATION,
                priority=priority,
                require_acknowledgment=require_acknowledgment,
                event="medication_reminder",
                context=context,
                idempotency_key=idempotency_key,
            )
            return record_send(notification, [user], channels)

    @classmethod
    def send_system_notification(
        cls,
        title: str,
        content: str,
        priority: str = Priority.MEDIUM,
        target_user_types: Sequence[str] | None = None,
        *,
        notification_type: str = NotificationType.SYSTEM,
        channels: Sequence[str] | None = None,
        require_acknowledgment: bool = False,
        idempotency_key: str | None = None,
        created_by: User | None = None,
    ) -> SendResult:
        """Send to every active user whose ``user_type`` is listed (all active users when
        ``target_user_types`` is None)."""
        user_model = get_user_model()
        allowed_types = list(user_model.UserType.values)
        if isinstance(target_user_types, str):
            raise ValueError("target_user_types must be a list, e.g. ['staff']")
        for user_type in target_user_types or ():
            _check_choice("user type", user_type, allowed_types)
        validate_channels(channels)
        users = user_model.objects.filter(is_active=True)
        if target_user_types is not None:
            users = users.filter(user_type__in=list(target_user_types))
        with transaction.atomic():
            notification = cls.create_notification(
                title=title,
                content=content,
                notification_type=notification_type,
                priority=priority,
                require_acknowledgment=require_acknowledgment,
                idempotency_key=idempotency_key,
                created_by=created_by,
            )
            return record_send(notification, users, channels)

    @classmethod
    def send_notifications(
        cls, drafts: Sequence[NotificationDraft], channels: Sequence[str] | None = None
    ) -> SendResult:
        """The bulk path for many notifications, each to one user (a slot's reminders, a
        day's alerts): one batch of drafts written in a fixed number of queries, inside the
        caller's transaction. Each draft's idempotency key makes a re-run write nothing."""
        return record_drafts(drafts, channels)
