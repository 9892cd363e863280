"""Email service providers' events (django-anymail's tracking webhooks, under
``/hooks/anymail/<esp>/tracking/``) as delivery receipts.

Anymail verifies each ESP's signature or basic auth (``ANYMAIL_WEBHOOK_SECRET``) and
announces events with its ``tracking`` signal; this receiver only hands them to the same
service as the SMS gateways' reports.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent

from notifications.models import ReceiptStatus

from .service import record_reports
from .statuses import StatusReport

EVENT_OUTCOMES = {
    "delivered": ReceiptStatus.DELIVERED.value,
    "bounced": ReceiptStatus.UNDELIVERED.value,
    "rejected": ReceiptStatus.UNDELIVERED.value,
    "failed": ReceiptStatus.UNDELIVERED.value,
}


def esp_key(esp_name: str) -> str:
    """ "Postmark", "Amazon SES" -> "postmark", "amazon_ses": as the email transport
    records the provider on the delivery."""
    return esp_name.lower().replace(" ", "_")[:20]


def record_email_event(sender: Any, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
    if not event.message_id:
        return
    record_reports(
        [
            StatusReport(
                esp_key(esp_name),
                str(event.message_id),
                str(event.event_type)[:60],
                EVENT_OUTCOMES.get(str(event.event_type), ""),
                detail=str(event.reject_reason or "")[:200],
            )
        ]
    )
