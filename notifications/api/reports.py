"""Delivery reports for staff."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from notifications.models import DeliveryStatus, Notification, ReceiptStatus

# What providers reported after taking a message, counted beside the statuses.
RECEIPTS = [value for value in ReceiptStatus.values if value]


def delivery_report(notification_id: int) -> dict[str, Any] | None:
    """Deliveries of a notification counted by channel and status, in one aggregate query
    (None when there is no such notification).

    The LEFT JOIN from the notification gives one row even when it has no deliveries
    (an in-app-only notification), which tells "none sent" apart from "no such id".
    """
    rows = list(
        Notification.objects.filter(pk=notification_id)
        .order_by()  # the model's default ordering would join the GROUP BY
        .values_list(
            "recipients__deliveries__channel",
            "recipients__deliveries__status",
            "recipients__deliveries__receipt_status",
        )
        .annotate(count=Count("recipients__deliveries"))
    )
    if not rows:
        return None
    channels: dict[str, dict[str, int]] = {}
    for channel, status, receipt, count in rows:
        if channel is None or not count:
            continue
        counts = channels.setdefault(
            channel, {**dict.fromkeys([*DeliveryStatus.values, *RECEIPTS], 0), "total": 0}
        )
        counts[status] += count
        if receipt:
            counts[receipt] += count
        counts["total"] += count
    return {
        "notification_id": notification_id,
        "total": sum(counts["total"] for counts in channels.values()),
        "channels": channels,
    }
