"""Each SMS gateway's status report, read into one small shape (pure functions).

A gateway's statuses map to delivered / undelivered / expired, or to nothing for the ones
that do not settle a message (queued, sent to the network) and for those we do not know:
those are stored as they came and answered 200, so the gateway does not retry forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.models import ReceiptStatus


class UnreadableReport(ValueError):
    """The body is not a status report of this gateway (answered 400)."""


@dataclass(frozen=True)
class StatusReport:
    provider: str
    provider_message_id: str
    provider_status: str
    outcome: str  # a ReceiptStatus value; "" when the status settles nothing
    reference: str = ""  # our idempotency key, where the gateway echoes it
    detail: str = ""


_DELIVERED = ReceiptStatus.DELIVERED.value
_UNDELIVERED = ReceiptStatus.UNDELIVERED.value
_EXPIRED = ReceiptStatus.EXPIRED.value

# Clickatell's message status codes (1-14): 4 is "received by recipient".
CLICKATELL_CODES = {
    4: _DELIVERED,
    5: _UNDELIVERED,  # error with the message
    6: _UNDELIVERED,  # user cancelled
    7: _UNDELIVERED,  # error delivering to the handset
    9: _UNDELIVERED,  # routing error
    10: _EXPIRED,
    12: _UNDELIVERED,  # out of credit
    14: _UNDELIVERED,  # maximum MT limit exceeded
}
BULKSMS_TYPES = {"DELIVERED": _DELIVERED, "FAILED": _UNDELIVERED}
AFRICASTALKING_STATUSES = {
    "Success": _DELIVERED,
    "Failed": _UNDELIVERED,
    "Rejected": _UNDELIVERED,
    "AbsentSubscriber": _UNDELIVERED,
    "Expired": _EXPIRED,
}
TWILIO_STATUSES = {
    "delivered": _DELIVERED,
    "read": _DELIVERED,
    "undelivered": _UNDELIVERED,
    "failed": _UNDELIVERED,
}
# Twilio reports a message whose ValidityPeriod ran out as failed with error 30001
# ("queue overflow"): the network never had it, so it expired rather than failed.
_TWILIO_EXPIRED_ERRORS = {"30001"}


def clickatell_reports(body: Any) -> list[StatusReport]:
    if not isinstance(body, Mapping) or not body.get("messageId"):
        raise UnreadableReport("messageId is required")
    try:
        code = int(body.get("statusCode", 0))
    except (TypeError, ValueError):
        raise UnreadableReport("statusCode must be a number") from None
    return [
        StatusReport(
            "clickatell",
            str(body["messageId"]),
            str(body.get("status") or code),
            CLICKATELL_CODES.get(code, ""),
            reference=str(body.get("clientMessageId") or ""),
        )
    ]


def bulksms_reports(body: Any) -> list[StatusReport]:
    # BulkSMS posts a JSON array of message objects, as its GET /messages returns them.
    items = body if isinstance(body, list) else [body]
    reports = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("id"):
            raise UnreadableReport("every message needs an id")
        raw_status = item.get("status")
        status: Mapping[str, Any] = raw_status if isinstance(raw_status, Mapping) else {}
        kind = str(status.get("type", ""))
        subtype = str(status.get("subtype") or "")
        outcome = BULKSMS_TYPES.get(kind, "")
        if kind == "FAILED" and subtype == "EXPIRED":
            outcome = _EXPIRED
        reports.append(
            StatusReport(
                "bulksms",
                str(item["id"]),
                str(status.get("id") or kind)[:60],
                outcome,
                reference=str(item.get("userSuppliedId") or ""),
            )
        )
    return reports


def africastalking_reports(form: Mapping[str, str]) -> list[StatusReport]:
    if not form.get("id") or not form.get("status"):
        raise UnreadableReport("id and status are required")
    status = form["status"]
    return [
        StatusReport(
            "africastalking",
            form["id"],
            status[:60],
            AFRICASTALKING_STATUSES.get(status, ""),
            detail=form.get("failureReason", "")[:200],
        )
    ]


def twilio_reports(form: Mapping[str, str], reference: str) -> list[StatusReport]:
    if not form.get("MessageSid") or not form.get("MessageStatus"):
        raise UnreadableReport("MessageSid and MessageStatus are required")
    status = form["MessageStatus"]
    error = form.get("ErrorCode", "")
    outcome = TWILIO_STATUSES.get(status, "")
    if status == "failed" and error in _TWILIO_EXPIRED_ERRORS:
        outcome = _EXPIRED
    return [
        StatusReport(
            "twilio",
            form["MessageSid"],
            status[:60],
            outcome,
            reference=reference,
            detail=f"error {error}" if error else "",
        )
    ]
