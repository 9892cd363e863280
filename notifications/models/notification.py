from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.encryption.fields import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedTextField,
)

from .choices import NotificationType, Priority, RecipientStatus


class Notification(models.Model):
    """What is said, once, whoever it goes to.

    Event notifications (a medication reminder, a stock alert) keep their facts in
    ``context`` and are rendered in each recipient's language; ``title`` and ``content`` then
    hold an English copy for the admin. Free-text notifications (``event="custom"``) are
    shown as written.
    """

    # Encrypted at rest, like the facts: they may name a medicine or a patient.
    title = EncryptedCharField(_("title"), max_length=200)
    content = EncryptedTextField(_("content"), blank=True)
    notification_type = models.CharField(
        _("type"), max_length=20, choices=NotificationType.choices, default=NotificationType.GENERAL
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    require_acknowledgment = models.BooleanField(_("requires acknowledgment"), default=False)
    event = models.CharField(_("event"), max_length=64, default="custom")
    # Dates and times are stored as ISO 8601 strings and parsed back by the renderer.
    # Encrypted whole, so no key of it can be queried in SQL.
    context = EncryptedJSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The same key sent twice is one notification: retries and re-run tasks change nothing.
    # Unique by a constraint, not unique=True: that would add a second index for LIKE
    # queries nobody makes, paid by every insert. NULL, not "", for "no key": the unique
    # constraint must not take two keyless notifications for the same one.
    idempotency_key = models.CharField(  # noqa: DJ001
        _("idempotency key"), max_length=200, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
        db_index=False,  # indexed below where set: reminders and alerts have no author
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="one_notification_per_idempotency_key"
            ),
        ]
        indexes = [
            # For deleting a user (SET NULL): only the rows that name someone.
            models.Index(
                fields=["created_by"],
                condition=models.Q(created_by__isnull=False),
                name="notification_created_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_notification_type_display()}: {self.title}"


class NotificationRecipient(models.Model):
    """One user's copy of a notification and their own state of it. It is also the in-app
    delivery: a row with ``in_app`` set is visible in the app as soon as it is committed."""

    # No index of its own: the unique (notification, user) index serves lookups by
    # notification, and every index costs each of a broadcast's inserts.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="recipients", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_receipts"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RecipientStatus.choices, default=RecipientStatus.UNREAD
    )
    in_app = models.BooleanField(_("shown in the app"), default=True)
    # Copied from the notification so a user's list is served from one index.
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="one_recipient_per_user"),
        ]
        indexes = [
            models.Index(
                fields=["user", "status", "-created_at", "-id"],
                condition=models.Q(in_app=True),
                name="recipient_inbox_idx",
            ),
            models.Index(
                fields=["user", "-created_at", "-id"],
                condition=models.Q(in_app=True),
                name="recipient_inbox_all_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.notification_id} for user {self.user_id}"
