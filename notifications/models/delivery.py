from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AttemptOutcome, Channel, DeliveryStatus, ReceiptStatus
from .notification import NotificationRecipient


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def back_to_pending(
        self,
        *,
        not_before: datetime | None = None,
        last_error: str | None = None,
        refund_attempt: bool = False,
        **changes: Any,
    ) -> int:
        """Hand these deliveries back to the outbox: pending, unclaimed and not published, so
        the sweeper (or whoever enqueues them after this) sends them once ``not_before``.

        ``refund_attempt``: the claim that counted an attempt never tried the provider (a
        deferral, a task that failed before sending), so the attempt is given back.
        """
        update: dict[str, Any] = {
            "status": DeliveryStatus.PENDING,
            "claim_token": None,
            "claimed_at": None,
            "enqueued_at": None,
            **changes,
        }
        if not_before is not None:
            update["not_before"] = not_before
        if last_error is not None:
            update["last_error"] = last_error
        if refund_attempt:
            update["attempts"] = F("attempts") - 1
        return self.update(**update)


class Delivery(models.Model):
    """One recipient on one channel: the unit the outbox sends, retries and audits.

    The row is the source of truth (the database is the outbox); broker messages only
    carry ids and are allowed to be lost or repeated.
    """

    # Served by the unique (recipient, channel) index; see NotificationRecipient.
    recipient = models.ForeignKey(
        NotificationRecipient,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # Not sent before this time: quiet hours, the email digest time or a retry back-off.
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    # Goes out in the recipient's email digest rather than as a message of its own.
    digest = models.BooleanField(_("in digest"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Times the sweeper took it back from a worker that died holding it, and how many of
    # those the worker held it alone: a delivery that kills its worker every time is sent
    # alone, then failed (notifications/delivery/poison.py). Defaults in the table too, for
    # rows written with a column list of their own.
    reclaims = models.PositiveSmallIntegerField(_("reclaims"), default=0, db_default=0)
    reclaims_alone = models.PositiveSmallIntegerField(
        _("reclaims while sent alone"), default=0, db_default=0
    )
    enqueued_at = models.DateTimeField(_("enqueued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Defaults in Python and in the table: rows written with a column list of their own
    # (bench COPY, raw INSERTs) leave these columns to the database.
    provider = models.CharField(_("provider"), max_length=20, blank=True, default="", db_default="")
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    # The provider's last word on the message after it took it (SMS delivery reports,
    # Expo push receipts, email events).
    receipt_status = models.CharField(
        _("receipt"),
        max_length=12,
        choices=ReceiptStatus.choices,
        blank=True,
        default="",
        db_default="",
    )
    receipt_at = models.DateTimeField(_("receipt at"), null=True, blank=True)
    # Why the last attempt failed or the delivery was skipped. Never a message body,
    # address or phone number.
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel"], name="one_delivery_per_recipient_channel"
            ),
        ]
        indexes = [
            # The sweeper's two questions: what pending work is due, what is stuck sending.
            models.Index(
                fields=["not_before"],
                condition=models.Q(status="pending"),
                name="delivery_due_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="delivery_sending_idx",
            ),
            # Only claimed rows carry a token: a partial index stays the size of the work
            # in flight instead of the whole table.
            # Receipts find their delivery by the provider's id.
            models.Index(
                fields=["provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="delivery_provider_msg_idx",
            ),
            # The reconciler's question: which outcomes are still unknown.
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="unknown"),
                name="delivery_unknown_idx",
            ),
            models.Index(
                fields=["claim_token"],
                condition=models.Q(claim_token__isnull=False),
                name="delivery_claim_token_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.pk} ({self.status})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery, written before the provider is called so that a
    crash still leaves a trace."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.STARTED
    )
    provider = models.CharField(_("provider"), max_length=20, blank=True, default="", db_default="")
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"
