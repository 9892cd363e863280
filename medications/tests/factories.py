"""factory_boy factories for the medications models (users: ``UserFactory``)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory

from medguard_backend.testing.factories import UserFactory
from medications.models import EVERY_DAY, CaregiverLink, Dose, Medicine, Schedule, Supply


class MedicineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Medicine

    name = factory.Sequence(lambda n: f"Medicine{n}")
    strength = "500 mg"
    form = Medicine.Form.TABLET

    @classmethod
    def _create(cls, model_class: type[Medicine], *args: object, **kwargs: Any) -> Medicine:
        # One catalogue entry per name, strength and form; the name is encrypted, so it is
        # found by its blind index.
        name = kwargs.pop("name")
        return model_class.objects.get_or_create_named(name, **kwargs)[0]


class SupplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supply

    patient = factory.SubFactory(UserFactory)
    medicine = factory.SubFactory(MedicineFactory)
    dosage = "1 tablet"
    quantity_on_hand = Decimal(30)
    unit = "tablets"
    warning_days = 5


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Schedule

    supply = factory.SubFactory(SupplyFactory)
    slot = Schedule.Slot.MORNING
    dose_quantity = Decimal(1)
    days_of_week = EVERY_DAY
    start_date = datetime.date(2026, 1, 1)


class DoseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dose

    schedule = factory.SubFactory(ScheduleFactory)
    due_at = factory.Sequence(
        lambda n: datetime.datetime(2026, 3, 2, 6, tzinfo=datetime.UTC) + datetime.timedelta(days=n)
    )
    status = Dose.Status.PENDING


class CaregiverLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaregiverLink

    patient = factory.SubFactory(UserFactory)
    caregiver = factory.SubFactory(UserFactory, user_type="caregiver")
    receives_stock_alerts = True
    can_see_medication_details = False
