"""A patient's own medicines from the web pages: add one (with its first schedule), change
how it is taken, add or remove a schedule, stop it. Restocking and doses go through
``medications.stock`` and ``medications.doses``; these are the writes those lack."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from medications.models import Medicine, Schedule, Supply

if TYPE_CHECKING:
    from accounts.models import User


def own_supply(user: User, supply_id: int) -> Supply:
    """The user's own active supply; anyone else's raises ``Supply.DoesNotExist``."""
    return Supply.objects.select_related("medicine").get(pk=supply_id, patient=user, active=True)


def add_medicine(
    user: User,
    *,
    name: str,
    strength: str,
    form: str,
    dosage: str,
    instructions: str,
    quantity_on_hand: Decimal,
    unit: str,
    slot: str,
    custom_time: datetime.time | None,
    days_of_week: int,
    dose_quantity: Decimal,
    start_date: datetime.date,
) -> Supply:
    """A supply of the named medicine (one ``Medicine`` row per name, strength and form,
    shared by every patient) with its first schedule, both or neither."""
    with transaction.atomic():
        medicine, _ = Medicine.objects.get_or_create_named(
            name.strip(), strength=strength.strip(), form=form
        )
        supply = Supply.objects.create(
            patient=user,
            medicine=medicine,
            dosage=dosage,
            instructions=instructions,
            quantity_on_hand=quantity_on_hand,
            unit=unit,
        )
        add_schedule(
            supply,
            slot=slot,
            custom_time=custom_time,
            days_of_week=days_of_week,
            dose_quantity=dose_quantity,
            start_date=start_date,
        )
    return supply


def add_schedule(
    supply: Supply,
    *,
    slot: str,
    custom_time: datetime.time | None,
    days_of_week: int,
    dose_quantity: Decimal,
    start_date: datetime.date,
) -> Schedule:
    return Schedule.objects.create(
        supply=supply,
        slot=slot,
        # Only a custom schedule keeps a time of its own (a database constraint says so).
        custom_time=custom_time if slot == Schedule.Slot.CUSTOM else None,
        days_of_week=days_of_week,
        dose_quantity=dose_quantity,
        start_date=start_date,
    )


def update_supply(supply: Supply, *, dosage: str, instructions: str, warning_days: int) -> Supply:
    Supply.objects.filter(pk=supply.pk).update(
        dosage=dosage, instructions=instructions, warning_days=warning_days
    )
    supply.refresh_from_db()
    return supply


def remove_schedule(user: User, schedule_id: int) -> None:
    """End one of the user's schedules today: its past doses stay (they are the adherence
    record), no dose is reminded after today."""
    ended = Schedule.objects.filter(
        pk=schedule_id, supply__patient=user, supply__active=True
    ).update(paused=True)
    if not ended:
        raise Schedule.DoesNotExist(f"no schedule {schedule_id} of user {user.pk}")


def stop_medicine(supply: Supply) -> None:
    """Stop taking a medicine: no more reminders or stock alerts; its history stays."""
    with transaction.atomic():
        Supply.objects.filter(pk=supply.pk).update(active=False)
        Schedule.objects.filter(supply_id=supply.pk).update(paused=True)
