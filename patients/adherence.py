"""What a caregiver sees of a patient: how the last 30 days went. One aggregate query."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from medications.models import Dose

WINDOW = datetime.timedelta(days=30)
Status = Dose.Status


@dataclass(frozen=True)
class Adherence:
    taken: int
    skipped: int
    missed: int

    @property
    def counted(self) -> int:
        return self.taken + self.skipped + self.missed

    @property
    def percent(self) -> int | None:
        """Doses taken out of those that were decided (taken, skipped or missed), rounded;
        ``None`` without any."""
        return round(100 * self.taken / self.counted) if self.counted else None


def adherence(patient_id: int, now: datetime.datetime) -> Adherence:
    """The patient's doses due in the 30 days up to ``now``, by outcome (still-open doses
    are not counted: they may yet be taken)."""
    counts = Dose.objects.filter(
        schedule__supply__patient_id=patient_id, due_at__gt=now - WINDOW, due_at__lte=now
    ).aggregate(
        taken=Count("pk", filter=Q(status=Status.TAKEN)),
        skipped=Count("pk", filter=Q(status=Status.SKIPPED)),
        missed=Count("pk", filter=Q(status=Status.MISSED)),
    )
    return Adherence(**counts)


def recent_missed(patient_id: int, now: datetime.datetime, limit: int = 10) -> list[Dose]:
    return list(
        Dose.objects.filter(
            schedule__supply__patient_id=patient_id,
            status=Status.MISSED,
            due_at__gt=now - WINDOW,
        )
        .select_related("schedule__supply__medicine")
        .order_by("-due_at")[:limit]
    )
