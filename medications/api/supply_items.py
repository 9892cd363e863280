"""A patient's active supplies as the API shows them: each with its schedules and its
stock forecast. Reading any number of supplies costs two queries (the supplies with their
medicines, and all their schedules); the forecast is computed in Python."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from medications.forecast import average_daily_use, days_of_supply, run_out_date
from medications.models import Schedule, Supply

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class SupplyItem:
    supply: Supply
    schedules: list[Schedule]
    days_of_supply: Decimal | None
    run_out_date: datetime.date | None


def active_supplies(patient_id: int) -> QuerySet[Supply]:
    """The patient's active supplies, with medicine and schedules. Medicine names are
    encrypted, so the database cannot order by them: ``supply_items`` does."""
    return (
        Supply.objects.filter(patient_id=patient_id, active=True)
        .select_related("medicine")
        .prefetch_related(Prefetch("schedules", queryset=Schedule.objects.order_by("pk")))
        .order_by("pk")
    )


def local_today(user: User) -> datetime.date:
    """Today in the user's own time zone: the forecast counts the patient's days."""
    return timezone.now().astimezone(user.timezone).date()


def supply_items(supplies: Iterable[Supply], today: datetime.date) -> list[SupplyItem]:
    """By medicine name and strength (sorted here: the names are encrypted at rest)."""
    items = []
    by_name = sorted(
        supplies,
        key=lambda s: (s.medicine.name.casefold(), s.medicine.strength.casefold(), s.pk),
    )
    for supply in by_name:
        # By time of day, as the patient lives them (the model orders by slot name).
        schedules = sorted(supply.schedules.all(), key=lambda s: (s.local_time, s.pk))
        days = days_of_supply(supply.quantity_on_hand, average_daily_use(schedules, today))
        items.append(SupplyItem(supply, schedules, days, _run_out(today, days)))
    return items


def _run_out(today: datetime.date, days: Decimal | None) -> datetime.date | None:
    if days is None:
        return None
    try:
        return run_out_date(today, days)
    except OverflowError:
        # A tiny dose against a large stock can last past the year 9999: no date to show.
        return None
