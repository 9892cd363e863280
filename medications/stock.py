"""A supply's stock: restocking, and the periodic "Low Stock Check".

A low-stock alert goes out once per stock episode: the episode number is part of the
alert's idempotency key, and ``restock`` starts a new episode. So the check can run every
few hours (and twice, and concurrently) and the patient hears once per time they run low.

"Today" is the patient's own local date (``user.timezone``), not the server's: a patient in
Auckland has reached tomorrow while Johannesburg is still in the evening.

Cost: per batch of supplies, a constant number of queries (the supplies, their schedules,
the caregiver links of patients with something to report, the alerts already sent); the
only per-supply cost is sending a new alert, through ``NotificationService``. The alert
helpers here are shared with the "Expiring Medications Check" (``expiry.py``).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from notifications.models import Notification
from notifications.services import NotificationDraft, NotificationService

from .caregivers import told_to_caregiver
from .forecast import average_daily_use, days_of_supply, is_low, run_out_date
from .models import CaregiverLink, Schedule, Supply

if TYPE_CHECKING:
    from accounts.models import User

__all__ = ["DEFAULT_BATCH_SIZE", "check_low_stock", "restock"]

DEFAULT_BATCH_SIZE = 500


def restock(
    supply_id: int,
    *,
    quantity: Decimal,
    by: User,
    expiry_date: datetime.date | None = None,
) -> Supply:
    """Add ``quantity`` to ``by``'s own supply and start a new stock episode (so a later
    low stock is alerted again); with ``expiry_date``, the new stock's expiry date replaces
    the old one. Another patient's supply raises ``Supply.DoesNotExist``."""
    try:
        amount = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        raise ValueError(f"quantity must be a number, not {quantity!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"quantity must be greater than 0, not {quantity!r}")
    changes: dict[str, Any] = {
        # F() so a dose taken at the same moment is not lost (nor this restock).
        "quantity_on_hand": F("quantity_on_hand") + amount,
        "stock_episode": F("stock_episode") + 1,
        "updated_at": timezone.now(),
    }
    if expiry_date is not None:
        changes["expiry_date"] = expiry_date
    with transaction.atomic():
        if not Supply.objects.filter(pk=supply_id, patient=by).update(**changes):
            raise Supply.DoesNotExist(f"no supply {supply_id} of user {by.pk}")
        return Supply.objects.select_related("medicine").get(pk=supply_id)


# --- Alerts shared with expiry.py ----------------------------------------------------------


@dataclass(frozen=True)
class SupplyAlert:
    """One notification to one person about one supply, sent at most once (``key``)."""

    user: User
    key: str
    event: str
    notification_type: str
    priority: str
    context: dict[str, Any]
    for_caregiver: bool = False

    def draft(self) -> NotificationDraft:
        return NotificationDraft(
            user_id=self.user.pk,
            event=self.event,
            notification_type=self.notification_type,
            priority=self.priority,
            idempotency_key=self.key,
            context=self.context,
        )


class AlertCounts(Counter[str]):
    """What a periodic check did; ``summary`` is the task's result."""

    def summary(self, *names: str) -> dict[str, int]:
        return {name: self[name] for name in names}


def supply_batches(queryset: QuerySet[Supply], size: int) -> Iterator[list[Supply]]:
    """Supplies by keyset pages of primary keys: each page is one fresh query (plus one per
    prefetch), so memory stays flat and a page never skips or repeats a row."""
    last_pk = 0
    while True:
        page = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:size])
        if page:
            yield page
        if len(page) < size:
            return
        last_pk = page[-1].pk


def with_caregivers(alerts: list[SupplyAlert]) -> list[SupplyAlert]:
    """The patients' alerts, each followed by one of its own for every caregiver who
    receives stock alerts (ONE query for the links). A caregiver is told whose supply it
    is, and which medicine only if the patient allowed it."""
    if not alerts:
        return []
    links: dict[int, list[CaregiverLink]] = defaultdict(list)
    for link in (
        CaregiverLink.objects.filter(
            patient_id__in={alert.user.pk for alert in alerts},
            active=True,
            receives_stock_alerts=True,
            caregiver__is_active=True,
        )
        .select_related("caregiver")
        .order_by("pk")
    ):
        links[link.patient_id].append(link)
    expanded: list[SupplyAlert] = []
    for alert in alerts:
        expanded.append(alert)
        for link in links.get(alert.user.pk, ()):
            context = told_to_caregiver(alert.user, link, alert.context)
            expanded.append(
                SupplyAlert(
                    user=link.caregiver,
                    key=f"{alert.key}-caregiver-{link.caregiver_id}",
                    event=alert.event,
                    notification_type=alert.notification_type,
                    priority=alert.priority,
                    context=context,
                    for_caregiver=True,
                )
            )
    return expanded


def send_alerts(alerts: list[SupplyAlert], counts: AlertCounts) -> None:
    """Send the alerts not sent before, as one bulk write: ONE query finds the keys already
    used, and ``send_notifications`` writes the rest in a fixed number of queries.

    The idempotency key is also unique in the database, so a check running concurrently
    (or an alert sent between this query and the write) still yields one notification.
    """
    if not alerts:
        return
    sent_before = set(
        Notification.objects.filter(idempotency_key__in=[alert.key for alert in alerts])
        .values_list("idempotency_key", flat=True)
        .order_by()
    )
    new = [alert for alert in alerts if alert.key not in sent_before]
    counts["already_alerted"] += sum(
        1 for alert in alerts if alert.key in sent_before and not alert.for_caregiver
    )
    counts["alerted"] += sum(1 for alert in new if not alert.for_caregiver)
    counts["caregivers_alerted"] += sum(1 for alert in new if alert.for_caregiver)
    if new:
        NotificationService.send_notifications([alert.draft() for alert in new])


# --- Low Stock Check ---------------------------------------------------------------------


def _supplies_in_use(now: datetime.datetime) -> QuerySet[Supply]:
    # Coarse in SQL (no local date yet: every zone's date is at most a day behind UTC's),
    # exact in Python per patient.
    earliest_local_day = (now.astimezone(datetime.UTC) - datetime.timedelta(days=1)).date()
    in_use = Schedule.objects.filter(supply=OuterRef("pk"), paused=False).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=earliest_local_day)
    )
    return (
        Supply.objects.filter(active=True, patient__is_active=True)
        .filter(Exists(in_use))
        .select_related("patient", "medicine")
        .prefetch_related(Prefetch("schedules", queryset=Schedule.objects.filter(paused=False)))
    )


def low_stock_alert(supply: Supply, days: Decimal, today: datetime.date) -> SupplyAlert:
    return SupplyAlert(
        user=supply.patient,
        key=f"low-stock-{supply.pk}-{supply.stock_episode}",
        event="low_stock",
        notification_type="stock",
        priority="high" if days <= 1 else "medium",
        context={
            "medication_name": str(supply.medicine),
            "days_of_supply": str(days),
            "run_out_date": run_out_date(today, days).isoformat(),
            "quantity_on_hand": str(supply.quantity_on_hand),
            "unit": supply.unit,
        },
    )


def check_low_stock(
    now: datetime.datetime | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, int]:
    """Alert patients (and their caregivers who receive stock alerts) whose supply lasts
    ``warning_days`` days or less. Returns counts: ``checked`` (supplies with a forecast),
    ``low``, ``alerted`` and ``already_alerted`` (patients' alerts, new and from earlier
    runs of this episode), ``caregivers_alerted``."""
    now = now or timezone.now()
    counts = AlertCounts()
    for supplies in supply_batches(_supplies_in_use(now), batch_size):
        low: list[SupplyAlert] = []
        for supply in supplies:
            today = now.astimezone(supply.patient.timezone).date()
            days = days_of_supply(
                supply.quantity_on_hand, average_daily_use(supply.schedules.all(), today)
            )
            if days is None:
                continue
            counts["checked"] += 1
            if is_low(days, supply.warning_days):
                low.append(low_stock_alert(supply, days, today))
        counts["low"] += len(low)
        send_alerts(with_caregivers(low), counts)
    return counts.summary("checked", "low", "alerted", "already_alerted", "caregivers_alerted")
