"""The periodic "Expiring Medications Check" (daily at 09:00).

For each active supply with an expiry date, in the patient's own local date:

- ``0 < days until expiry <= warning_days``: an ``expiry_warning`` (medium), once per
  (supply, expiry date): a later run that day or the next changes nothing, and a restock
  with a new expiry date is a new warning.
- expiry date is today: a ``medication_expired`` alert (high), once per (supply, expiry
  date).
- already expired before today, or further away than the horizon: nothing.

A check that does not run on the expiry day (beat down all day) does not catch up later:
"expired yesterday" is a different message from the one that was due, and the supply's
owner has had the warning. Caregivers with ``receives_stock_alerts`` get their own copy,
as with low stock. Per batch, a constant number of queries.
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import Supply
from .stock import (
    DEFAULT_BATCH_SIZE,
    AlertCounts,
    SupplyAlert,
    send_alerts,
    supply_batches,
    with_caregivers,
)

__all__ = ["check_expiring_medications", "expiry_alert"]

# Supply.warning_days is validated to at most 90: the SQL pre-filter looks that far ahead,
# and Python applies each supply's own horizon.
LONGEST_HORIZON_DAYS = 90


def _supplies_near_expiry(now: datetime.datetime) -> QuerySet[Supply]:
    # Every zone's local date is within a day of UTC's: coarse in SQL, exact per patient.
    utc_today = now.astimezone(datetime.UTC).date()
    return Supply.objects.filter(
        active=True,
        patient__is_active=True,
        expiry_date__gte=utc_today - datetime.timedelta(days=1),
        expiry_date__lte=utc_today + datetime.timedelta(days=LONGEST_HORIZON_DAYS + 1),
    ).select_related("patient", "medicine")


def expiry_alert(supply: Supply, today: datetime.date) -> SupplyAlert | None:
    """The alert ``supply`` is due on ``today`` (the patient's local date), if any."""
    days = supply.days_until_expiry(today)
    if days is None or days < 0 or days > supply.warning_days:
        return None
    assert supply.expiry_date is not None  # noqa: S101 - days is None otherwise
    expiry_date = supply.expiry_date.isoformat()
    if days == 0:
        return SupplyAlert(
            user=supply.patient,
            key=f"expired-{supply.pk}-{expiry_date}",
            event="medication_expired",
            notification_type="expiry",
            priority="high",
            context={"medication_name": str(supply.medicine), "expiry_date": expiry_date},
        )
    return SupplyAlert(
        user=supply.patient,
        key=f"expiry-{supply.pk}-{expiry_date}",
        event="expiry_warning",
        notification_type="expiry",
        priority="medium",
        context={
            "medication_name": str(supply.medicine),
            "expiry_date": expiry_date,
            "days_until_expiry": days,
        },
    )


def check_expiring_medications(
    now: datetime.datetime | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, int]:
    """Warn of supplies expiring within their horizon and alert those expiring today.
    Returns counts: ``checked``, ``expiring`` (warnings due), ``expired`` (expiring
    today), ``alerted`` and ``already_alerted`` (patients' alerts, new and from earlier
    runs), ``caregivers_alerted``."""
    now = now or timezone.now()
    counts = AlertCounts()
    for supplies in supply_batches(_supplies_near_expiry(now), batch_size):
        due: list[SupplyAlert] = []
        for supply in supplies:
            counts["checked"] += 1
            alert = expiry_alert(supply, now.astimezone(supply.patient.timezone).date())
            if alert is not None:
                counts["expired" if alert.event == "medication_expired" else "expiring"] += 1
                due.append(alert)
        send_alerts(with_caregivers(due), counts)
    return counts.summary(
        "checked", "expiring", "expired", "alerted", "already_alerted", "caregivers_alerted"
    )
