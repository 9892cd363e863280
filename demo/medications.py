"""Demo medicines, schedules and supplies, so that within minutes of start-up a newcomer
sees a dose reminder, a low-stock alert and an expiry alert arrive in the app and by email.

What a pharmacist would type for a patient (dosage, instructions) is written in that
patient's language.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from accounts.models import User
from medications.models import CaregiverLink, Medicine, Schedule, Supply
from medications.units import Unit, amount_of


def _supply(
    patient: User,
    name: str,
    strength: str,
    dose: tuple[int, str],
    instructions: str,
    **fields: object,
) -> Supply:
    medicine, _ = Medicine.objects.get_or_create_named(name, strength=strength)
    with translation.override(patient.preferred_language):
        written = {
            "dosage": amount_of(*dose),
            "instructions": gettext(instructions) if instructions else "",
        }
    supply, _ = Supply.objects.get_or_create(
        patient=patient, medicine=medicine, defaults={**written, **fields}
    )
    return supply


def first_dose_time(now: datetime.datetime, zone: datetime.tzinfo) -> datetime.time:
    """The first whole minute after ``now`` in ``zone``, at most a minute away.

    On a new database beat first runs the per-minute dispatcher a minute after its task is
    set up, which `python3 dev.py` does right after loading the demo (on later starts beat
    runs it at once, then every minute): the dose is due by that run and is reminded there,
    about a minute after start-up. A dose set two minutes ahead could miss that run and
    wait for the next one.
    """
    soon = now.astimezone(zone) + datetime.timedelta(minutes=1)
    return soon.time().replace(second=0, microsecond=0)


def load_demo_medications(people: dict[str, User]) -> Schedule:
    """Create (once) the demo supplies; move the demo's next dose to about a minute from
    now. Returns that schedule."""
    thandi, johan, naledi = people["thandi"], people["johan"], people["naledi"]
    now = timezone.now()
    today = timezone.localdate(now)

    metformin = _supply(
        thandi,
        "Metformin",
        "500 mg",
        (1, Unit.TABLETS),
        gettext_noop("Take with breakfast"),
        quantity_on_hand=Decimal(56),
        unit=Unit.TABLETS,
    )
    Schedule.objects.get_or_create(supply=metformin, slot="morning", defaults={"start_date": today})
    Schedule.objects.get_or_create(supply=metformin, slot="evening", defaults={"start_date": today})
    next_dose, _ = Schedule.objects.update_or_create(
        supply=_supply(
            thandi,
            "Vitamin D",
            "1000 IU",
            (1, Unit.CAPSULES),
            "",
            quantity_on_hand=Decimal(30),
            unit=Unit.CAPSULES,
        ),
        slot="custom",
        defaults={"custom_time": first_dose_time(now, thandi.timezone), "start_date": today},
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
        (1, Unit.TABLETS),
        gettext_noop("Take in the morning"),
        quantity_on_hand=Decimal(4),
        unit=Unit.TABLETS,
    )
    Schedule.objects.get_or_create(
        supply=amlodipine, slot="morning", defaults={"start_date": today}
    )
    # Expires in three days.
    _supply(
        johan,
        "Insulin glargine",
        "100 U/ml",
        (20, Unit.UNITS),
        gettext_noop("Inject under the skin at night"),
        quantity_on_hand=Decimal(3),
        unit=Unit.PENS,
        expiry_date=today + datetime.timedelta(days=3),
    )
    return next_dose
