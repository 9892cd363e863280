"""Keeping the dashboard's daily rollups current.

Each refresh recounts only the days still open — today and the ``OPEN_DAYS`` before it,
whose rows can still change (retries, quiet hours and digests settle within a day; doses
are taken or missed within hours) — by a primary-key range that starts at the first id of
the oldest open day (``RollupMark``). Closed days keep their counts. So a refresh costs the
rows of a few days, not the table: at 10 million deliveries the dashboard still reads a
few hundred rollup rows (``python3 dev.py bench dashboard``).

Runs every five minutes ("Staff Dashboard Rollups") and after a broadcast from the staff
pages; the dashboard says when its figures were counted.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Count, F, QuerySet, Value, When
from django.db.models.functions import Left, TruncDate
from django.utils import timezone

from medications.models import Dose
from notifications.models import Delivery, DeliveryStatus, NotificationRecipient

from .models import DeliveryDay, DoseDay, FailureDay, ResponseDay, RollupMark

OPEN_DAYS = 2
# Response buckets, in order: read within five minutes, an hour, a day, or not within a day.
BUCKETS: tuple[tuple[str, datetime.timedelta | None], ...] = (
    ("5m", datetime.timedelta(minutes=5)),
    ("1h", datetime.timedelta(hours=1)),
    ("1d", datetime.timedelta(days=1)),
    ("later", None),
)
RESPONSES = ("read", "acknowledged")

Rows = list[models.Model]


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone())


@dataclass(frozen=True)
class Source:
    name: str
    model: type[models.Model]
    date_field: str
    targets: tuple[type[models.Model], ...]
    count: Callable[[QuerySet], Rows]

    def rows(self) -> QuerySet:
        if self.model is NotificationRecipient:
            return NotificationRecipient.objects.filter(in_app=True)
        return self.model.objects.all()  # type: ignore[attr-defined]


def _by_day(rows: QuerySet, date_field: str, *fields: str) -> Iterable[dict]:
    return (
        rows.annotate(day=TruncDate(date_field, tzinfo=zone()))
        .values("day", *fields)
        .annotate(n=Count("pk"))
        .order_by()
    )


def _count_deliveries(rows: QuerySet) -> Rows:
    counted: Rows = [
        DeliveryDay(day=r["day"], channel=r["channel"], status=r["status"], count=r["n"])
        for r in _by_day(rows, "created_at", "channel", "status")
    ]
    failed = rows.filter(status=DeliveryStatus.FAILED).annotate(reason=Left("last_error", 200))
    counted += [
        FailureDay(day=r["day"], channel=r["channel"], reason=r["reason"] or "?", count=r["n"])
        for r in _by_day(failed, "created_at", "channel", "reason")
    ]
    return counted


def _bucket(field: str) -> Case:
    whens = [When(**{f"{field}__isnull": True}, then=Value("never"))]
    whens += [
        When(**{f"{field}__lte": F("created_at") + within}, then=Value(name))
        for name, within in BUCKETS
        if within is not None
    ]
    return Case(*whens, default=Value("later"), output_field=models.CharField())


def _count_responses(rows: QuerySet) -> Rows:
    counted: Rows = []
    for response, field in (("read", "read_at"), ("acknowledged", "acknowledged_at")):
        if response == "acknowledged":
            rows = rows.filter(notification__require_acknowledgment=True)
        for r in _by_day(rows.annotate(bucket=_bucket(field)), "created_at", "bucket"):
            counted.append(
                ResponseDay(day=r["day"], response=response, bucket=r["bucket"], count=r["n"])
            )
    return counted


def _count_doses(rows: QuerySet) -> Rows:
    return [
        DoseDay(day=r["day"], status=r["status"], count=r["n"])
        for r in _by_day(rows, "due_at", "status")
    ]


SOURCES = (
    Source("deliveries", Delivery, "created_at", (DeliveryDay, FailureDay), _count_deliveries),
    Source("recipients", NotificationRecipient, "created_at", (ResponseDay,), _count_responses),
    Source("doses", Dose, "due_at", (DoseDay,), _count_doses),
)


def _first_id_on_or_after(source: Source, day: datetime.date, from_id: int) -> int | None:
    return (
        source.rows()
        .filter(pk__gte=from_id, **{f"{source.date_field}__gte": start_of(day)})
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def refresh_source(source: Source, now: datetime.datetime) -> int:
    """Recount ``source``'s open days; returns the number of rollup rows written."""
    first_open = timezone.localtime(now, zone()).date() - datetime.timedelta(days=OPEN_DAYS)
    mark = RollupMark.objects.filter(source=source.name).first()
    # The first refresh (no mark yet) counts every day once; later ones only the open days.
    from_id, from_day = (mark.first_id, mark.day) if mark else (0, datetime.date.min)
    counted = [
        row
        for row in source.count(source.rows().filter(pk__gte=from_id))
        if row.day >= from_day  # type: ignore[attr-defined]
    ]
    next_first = _first_id_on_or_after(source, first_open, from_id)
    with transaction.atomic():
        for target in source.targets:
            target.objects.filter(day__gte=from_day).delete()  # type: ignore[attr-defined]
            target.objects.bulk_create([r for r in counted if isinstance(r, target)])  # type: ignore[attr-defined]
        RollupMark.objects.update_or_create(
            source=source.name,
            defaults={
                "day": max(first_open, from_day),
                # Nothing since the first open day yet: the next refresh starts where this
                # one did (a few idle days' rows), and skips the closed days by date.
                "first_id": next_first if next_first is not None else from_id,
                "refreshed_at": now,
            },
        )
    return len(counted)


def refresh_rollups(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {source.name: refresh_source(source, now) for source in SOURCES}
