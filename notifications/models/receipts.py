from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ReceiptStatus
from .delivery import Delivery
from .devices import PushDevice


class DeliveryReceipt(models.Model):
    """One status report from a provider, stored as it came (an unknown status too), so a
    repeated webhook is recognised and an operator can see what the provider said.

    Holds ids and statuses only: never the number, the text or the provider's payload.
    """

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="receipts", null=True, blank=True
    )
    provider = models.CharField(_("provider"), max_length=20)
    provider_message_id = models.CharField(_("provider message id"), max_length=200)
    provider_status = models.CharField(_("provider status"), max_length=60)
    # Blank for a status that does not settle the message (queued, sent to the network) or
    # one we do not know.
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=ReceiptStatus.choices, blank=True, default=""
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery receipt")
        verbose_name_plural = _("delivery receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_message_id", "provider_status"],
                name="one_receipt_per_provider_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_status} for delivery {self.delivery_id}"


class PushTicket(models.Model):
    """Expo's ticket for one push to one device: its receipt is fetched later, and tells
    whether the device is gone (DeviceNotRegistered)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="push_tickets")
    device = models.ForeignKey(PushDevice, on_delete=models.CASCADE, related_name="tickets")
    ticket_id = models.CharField(_("ticket id"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    checked_at = models.DateTimeField(_("receipt checked"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=ReceiptStatus.choices, blank=True, default=""
    )
    error = models.CharField(_("error"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("push ticket")
        verbose_name_plural = _("push tickets")
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(checked_at__isnull=True),
                name="push_ticket_unchecked_idx",
            )
        ]

    def __str__(self) -> str:
        return f"push ticket {self.ticket_id} ({self.outcome or 'unchecked'})"
