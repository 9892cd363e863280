"""Demo medicines, schedules and supplies, so that within minutes of start-up a newcomer
sees a dose reminder, a low-stock alert and an expiry alert arrive in the app and by email."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from medications.models import CaregiverLink, Medicine, Schedule, Supply

# The demo's custom-time dose is set this far after each start-up.
FIRST_DOSE_AFTER = datetime.timedelta(minutes=2)


def _supply(patient: User, name: str, strength: str, **fields: object) -> Supply:
    medicine, _ = Medicine.objects.get_or_create(name=name, strength=strength)
    supply, _ = Supply.objects.get_or_create(patient=patient, medicine=medicine, defaults=fields)
    return supply


def load_demo_medications(people: dict[str, User]) -> Schedule:
    """Create (once) the demo supplies; move the demo's next dose to a couple of minutes
    from now. Returns that schedule."""
    thandi, johan, naledi = people["thandi"], people["johan"], people["naledi"]
    today = timezone.localdate()

    metformin = _supply(
        thandi,
        "Metformin",
        "500 mg",
        dosage="1 tablet",
        instructions="Take with breakfast",
        quantity_on_hand=Decimal(56),
        unit="tablets",
    )
    Schedule.objects.get_or_create(supply=metformin, slot="morning", defaults={"start_date": today})
    Schedule.objects.get_or_create(supply=metformin, slot="evening", defaults={"start_date": today})
    soon = (timezone.localtime() + FIRST_DOSE_AFTER).time().replace(second=0, microsecond=0)
    next_dose, _ = Schedule.objects.update_or_create(
        supply=_supply(
            thandi,
            "Vitamin D",
            "1000 IU",
            dosage="1 capsule",
            quantity_on_hand=Decimal(30),
            unit="capsules",
        ),
        slot="custom",
        defaults={"custom_time": soon, "start_date": today},
    )
    CaregiverLink.objects.get_or_create(
        patient=thandi,
        caregiver=naledi,
        defaults={"escalation_delay_minutes": 15, "receives_stock_alerts": True},
    )

    # Four days left at one a day: inside the five-day warning.
    amlodipine = _supply(
        johan,
        "Amlodipine",
        "5 mg",
        dosage="1 tablet",
        quantity_on_hand=Decimal(4),
        unit="tablets",
    )
    Schedule.objects.get_or_create(
        supply=amlodipine, slot="morning", defaults={"start_date": today}
    )
    # Expires in three days.
    _supply(
        johan,
        "Insulin glargine",
        "100 U/ml",
        dosage="20 units",
        quantity_on_hand=Decimal(3),
        unit="pens",
        expiry_date=today + datetime.timedelta(days=3),
    )
    return next_dose
