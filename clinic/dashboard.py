"""What the staff dashboard shows for a date range, read from the daily rollups (a few
hundred rows whatever the size of the tables) plus the expiry index of supplies."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Sum

from medications.models import Dose, Supply
from notifications.models import Channel, DeliveryStatus

from .models import DeliveryDay, DoseDay, FailureDay, ResponseDay, RollupMark
from .rollups import BUCKETS, RESPONSES

BUCKET_ORDER = (*(name for name, _ in BUCKETS), "never")
FAILURE_REASONS_SHOWN = 10
EXPIRY_HORIZON_DAYS = 30
EXPIRIES_LISTED = 20
# Doses that count for adherence: decided one way or the other.
TAKEN = Dose.Status.TAKEN
DECIDED = (Dose.Status.TAKEN, Dose.Status.SKIPPED, Dose.Status.MISSED)


@dataclass(frozen=True)
class DateRange:
    start: datetime.date
    end: datetime.date  # inclusive

    def days(self) -> list[datetime.date]:
        count = (self.end - self.start).days + 1
        return [self.start + datetime.timedelta(days=n) for n in range(count)]


@dataclass
class Dashboard:
    period: DateRange
    counted_at: datetime.datetime | None
    # day -> status -> count (all channels)
    deliveries_by_day: dict[datetime.date, dict[str, int]] = field(default_factory=dict)
    # channel -> status -> count over the range
    deliveries_by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    failure_reasons: list[tuple[str, str, int]] = field(default_factory=list)
    # response -> bucket -> count
    responses: dict[str, dict[str, int]] = field(default_factory=dict)
    # day -> (taken, decided)
    adherence_by_day: dict[datetime.date, tuple[int, int]] = field(default_factory=dict)
    expiring_count: int = 0
    expiring: list[Supply] = field(default_factory=list)

    @property
    def total_deliveries(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.deliveries_by_channel.values())


def _in(period: DateRange) -> dict[str, datetime.date]:
    return {"day__gte": period.start, "day__lte": period.end}


def build(period: DateRange, today: datetime.date) -> Dashboard:
    marks = RollupMark.objects.values_list("refreshed_at", flat=True)
    board = Dashboard(period=period, counted_at=min(marks, default=None))

    by_day: dict[datetime.date, dict[str, int]] = {d: defaultdict(int) for d in period.days()}
    by_channel: dict[str, dict[str, int]] = {
        c: dict.fromkeys(DeliveryStatus.values, 0) for c in Channel.values
    }
    for day, channel, status, count in DeliveryDay.objects.filter(**_in(period)).values_list(
        "day", "channel", "status", "count"
    ):
        by_day[day][status] += count
        by_channel.setdefault(channel, dict.fromkeys(DeliveryStatus.values, 0))
        by_channel[channel][status] = by_channel[channel].get(status, 0) + count
    board.deliveries_by_day = {day: dict(statuses) for day, statuses in by_day.items()}
    board.deliveries_by_channel = by_channel

    board.failure_reasons = list(
        FailureDay.objects.filter(**_in(period))
        .values_list("channel", "reason")
        .annotate(total=Sum("count"))
        .order_by("-total", "channel", "reason")[:FAILURE_REASONS_SHOWN]
    )

    responses = {r: dict.fromkeys(BUCKET_ORDER, 0) for r in RESPONSES}
    for response, bucket, total in (
        ResponseDay.objects.filter(**_in(period))
        .values_list("response", "bucket")
        .annotate(total=Sum("count"))
        .order_by()
    ):
        responses[response][bucket] = total
    board.responses = responses

    adherence = {d: [0, 0] for d in period.days()}
    for day, status, count in DoseDay.objects.filter(**_in(period)).values_list(
        "day", "status", "count"
    ):
        if status in DECIDED:
            adherence[day][1] += count
            if status == TAKEN:
                adherence[day][0] += count
    board.adherence_by_day = {day: (taken, decided) for day, (taken, decided) in adherence.items()}

    horizon = today + datetime.timedelta(days=EXPIRY_HORIZON_DAYS)
    expiring = Supply.objects.filter(
        active=True, expiry_date__gte=today, expiry_date__lte=horizon
    ).order_by("expiry_date", "pk")
    board.expiring_count = expiring.count()
    board.expiring = list(expiring.select_related("patient", "medicine")[:EXPIRIES_LISTED])
    return board
