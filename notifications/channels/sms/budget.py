"""The daily SMS budget: at most ``SMS_DAILY_LIMIT_PER_USER`` messages to one person and
``SMS_DAILY_LIMIT_TOTAL`` in all per day (0 = no limit), counted before the send.

SMS costs money per message; a bug or an abusive loop must not empty the account. Over
budget, a delivery waits for the next day (Africa/Johannesburg midnight) with the reason
recorded; it is never dropped. Counted from the deliveries themselves (sent, unknown, and
those being sent right now by any worker), in two queries per batch.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Count, Q

from notifications.models import Channel, Delivery, DeliveryStatus

_COUNTED = (DeliveryStatus.SENT, DeliveryStatus.UNKNOWN, DeliveryStatus.SENDING)
BUDGET_REASON = "SMS budget for the day reached"


def day_bounds(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(now.astimezone(zone).date(), datetime.time(), zone)
    return start, start + datetime.timedelta(days=1)


def over_budget(
    batch: Sequence[tuple[int, int]], now: datetime.datetime
) -> tuple[set[int], datetime.datetime]:
    """The delivery ids of ``batch`` ((delivery id, user id) pairs, in sending order) that
    would exceed a budget, and when the next day's budget opens."""
    per_user = settings.SMS_DAILY_LIMIT_PER_USER
    total = settings.SMS_DAILY_LIMIT_TOTAL
    start, tomorrow = day_bounds(now)
    if not batch or not (per_user or total):
        return set(), tomorrow
    batch_ids = [delivery_id for delivery_id, _user in batch]
    today = (
        Delivery.objects.filter(channel=Channel.SMS, status__in=_COUNTED)
        .filter(Q(sent_at__gte=start) | Q(sent_at__isnull=True, claimed_at__gte=start))
        .exclude(id__in=batch_ids)
    )
    used_total = today.count() if total else 0
    used_by_user: Counter[int] = Counter()
    if per_user:
        used_by_user.update(
            dict(
                today.filter(recipient__user_id__in={user for _d, user in batch})
                .values("recipient__user_id")
                .annotate(n=Count("id"))
                .values_list("recipient__user_id", "n")
            )
        )
    over: set[int] = set()
    for delivery_id, user_id in batch:
        if (total and used_total >= total) or (per_user and used_by_user[user_id] >= per_user):
            over.add(delivery_id)
            continue
        used_total += 1
        used_by_user[user_id] += 1
    return over, tomorrow
