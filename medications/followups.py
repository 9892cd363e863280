"""What happens after a reminder: snoozed doses are reminded again, doses not recorded
within the grace period become missed, and each caregiver hears of a missed dose after
their own delay — the patient's name and the time, and the medicine only where the link
allows it. Doses taken late but within the grace period send nothing more.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from medguard_backend.row_inserts import RowInsert, insert_rows
from notifications.services import NotificationDraft, NotificationService

from .caregivers import told_to_caregiver
from .due import DueSchedule
from .models import CaregiverLink, Dose, DoseEscalation
from .reminders import reminder_draft

# Escalations look back this far for missed doses: a caregiver is not told a day later.
ESCALATION_LOOKBACK = datetime.timedelta(hours=24)
BATCH = 500


@dataclass
class FollowUpSummary:
    re_reminded: int = 0
    missed: int = 0
    escalated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"re_reminded": self.re_reminded, "missed": self.missed, "escalated": self.escalated}


def _due_of(dose: Dose) -> DueSchedule:
    supply = dose.schedule.supply
    return DueSchedule(
        schedule_id=dose.schedule_id,
        patient_id=supply.patient_id,
        due_at=dose.due_at,
        medication_name=str(supply.medicine),
        dosage=supply.dosage,
        instructions=supply.instructions,
    )


def remind_snoozed(now: datetime.datetime) -> int:
    """Remind again the doses whose snooze is over (and put them back to pending).

    The doses a run reminds are the rows it locked and then updated, never rows re-read by
    ``reminded_at = now``: two runs in the same instant (a frozen clock; the same
    microsecond) would each read the other's rows back. PostgreSQL locks the rows
    (``FOR UPDATE SKIP LOCKED``: a concurrent run takes the next ones rather than waiting);
    SQLite takes its write lock at BEGIN (``transaction_mode=IMMEDIATE``), so a concurrent
    run waits and then finds them pending."""
    reminded = 0
    while True:
        with transaction.atomic():
            doses = list(
                Dose.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Dose.Status.SNOOZED, snoozed_until__lte=now)
                .select_related("schedule__supply__medicine")
                .order_by("id")[:BATCH]
            )
            if not doses:
                return reminded
            Dose.objects.filter(id__in=[dose.pk for dose in doses]).update(
                status=Dose.Status.PENDING, reminded_at=now
            )
            drafts = [
                reminder_draft(dose.pk, _due_of(dose), suffix=f"-snooze-{dose.snooze_count}")
                for dose in doses
            ]
            NotificationService.send_notifications(drafts)
        reminded += len(drafts)


def mark_missed(now: datetime.datetime) -> int:
    """Open doses past their grace period become missed (one conditional update)."""
    cutoff = now - datetime.timedelta(minutes=settings.MEDICATION_GRACE_MINUTES)
    return Dose.objects.filter(
        status__in=[Dose.Status.PENDING, Dose.Status.SNOOZED], due_at__lte=cutoff
    ).update(status=Dose.Status.MISSED, missed_at=now)


def missed_dose_draft(dose: Dose, link: CaregiverLink) -> NotificationDraft:
    supply = dose.schedule.supply
    context = told_to_caregiver(
        supply.patient,
        link,
        # The dose happens where the patient is: its time is read on their clock, named
        # with their zone, wherever the caregiver reads it.
        {
            "dose_time": dose.due_at,
            "dose_time_zone": str(supply.patient.timezone),
            "medication_name": str(supply.medicine),
        },
    )
    return NotificationDraft(
        user_id=link.caregiver_id,
        event="missed_dose",
        notification_type="medication",
        priority="high",
        idempotency_key=f"missed-{dose.pk}-caregiver-{link.caregiver_id}",
        context=context,
    )


def escalate_missed(now: datetime.datetime) -> int:
    """Tell each linked caregiver about a missed dose once their delay has passed."""
    doses = (
        Dose.objects.filter(status=Dose.Status.MISSED, missed_at__gte=now - ESCALATION_LOOKBACK)
        .select_related("schedule__supply__patient", "schedule__supply__medicine")
        .order_by("id")
    )
    escalated = 0
    last_id = 0
    while True:
        page = list(doses.filter(id__gt=last_id)[:BATCH])
        if not page:
            return escalated
        last_id = page[-1].pk
        by_patient: dict[int, list[Dose]] = {}
        for dose in page:
            by_patient.setdefault(dose.schedule.supply.patient_id, []).append(dose)
        links = CaregiverLink.objects.filter(
            patient_id__in=by_patient, active=True, caregiver__is_active=True
        )
        done = set(
            DoseEscalation.objects.filter(dose__in=page).values_list("dose_id", "caregiver_id")
        )
        wanted = [
            (dose, link)
            for link in links
            for dose in by_patient[link.patient_id]
            if (dose.pk, link.caregiver_id) not in done
            and dose.missed_at is not None
            and dose.missed_at + datetime.timedelta(minutes=link.escalation_delay_minutes) <= now
        ]
        if not wanted:
            continue
        with transaction.atomic():
            # Only the escalations this run recorded are sent (a racing run sends the rest):
            # the rows the insert returns, not the rows stamped "now", which a run in the
            # same instant would stamp too.
            mine = set(
                insert_rows(
                    RowInsert(DoseEscalation, ("dose", "caregiver"), notified_at=now),
                    ({"dose_id": d.pk, "caregiver_id": link.caregiver_id} for d, link in wanted),
                    unique=("dose_id", "caregiver_id"),
                    returning=("dose_id", "caregiver_id"),
                )
            )
            drafts = [
                missed_dose_draft(d, link)
                for d, link in wanted
                if (d.pk, link.caregiver_id) in mine
            ]
            if drafts:
                NotificationService.send_notifications(drafts)
        escalated += len(drafts)


def follow_up(now: datetime.datetime | None = None) -> FollowUpSummary:
    now = now or timezone.now()
    return FollowUpSummary(
        re_reminded=remind_snoozed(now),
        missed=mark_missed(now),
        escalated=escalate_missed(now),
    )
