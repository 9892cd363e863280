"""What the medications API shows: supplies with their schedules and forecast, doses, and a
caregiver's patients. Output only; fields are listed explicitly."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from medications.models import Dose, Medicine, Schedule
from notifications.api.validation import HourMinuteField

# Context key: whether a dose shows its medicine. Absent means no, so a view that forgets
# to decide shows a caregiver less, never more.
MEDICATION_VISIBLE = "medication_visible"
# Monday first, as the schedule's bit mask counts (Monday = 1, ..., Sunday = 64).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WeekdaysField(serializers.ListField):
    """A schedule's ``days_of_week`` bit mask as the days it names: ``["mon", "wed"]``
    (for schedules only: it reads the mask from the schedule)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=WEEKDAYS), **kwargs)

    def get_attribute(self, instance: Any) -> list[str]:
        mask: int = instance.days_of_week
        return [day for bit, day in enumerate(WEEKDAYS) if mask & (1 << bit)]


class MedicineSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    strength = serializers.CharField(read_only=True)
    form = serializers.ChoiceField(choices=Medicine.Form.choices, read_only=True)


class ScheduleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    slot = serializers.ChoiceField(choices=Schedule.Slot.choices, read_only=True)
    time = HourMinuteField(
        source="local_time",
        read_only=True,
        help_text="The slot's time (08:00, 14:00, 20:00) or the custom one, in the patient's "
        "own time zone.",
    )
    dose_quantity = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    days_of_week = WeekdaysField(read_only=True)
    start_date = serializers.DateField(read_only=True)
    end_date = serializers.DateField(read_only=True, allow_null=True)
    paused = serializers.BooleanField(read_only=True)


class SupplySerializer(serializers.Serializer):
    """One of a patient's supplies (a ``SupplyItem``); ``id`` is the supply's, the one the
    restock endpoint takes."""

    id = serializers.IntegerField(source="supply.pk", read_only=True)
    medicine = MedicineSerializer(source="supply.medicine", read_only=True)
    dosage = serializers.CharField(source="supply.dosage", read_only=True)
    instructions = serializers.CharField(source="supply.instructions", read_only=True)
    quantity_on_hand = serializers.DecimalField(
        source="supply.quantity_on_hand", max_digits=10, decimal_places=2, read_only=True
    )
    unit = serializers.CharField(source="supply.unit", read_only=True)
    expiry_date = serializers.DateField(
        source="supply.expiry_date", read_only=True, allow_null=True
    )
    warning_days = serializers.IntegerField(source="supply.warning_days", read_only=True)
    # No max_digits: a small dose against a large stock has many whole days.
    days_of_supply = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        read_only=True,
        allow_null=True,
        help_text="How many days the stock lasts at the rate the active schedules use it, "
        "rounded down to 0.1 day; null when no schedule is active.",
    )
    run_out_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The patient's local day the stock runs out; null when there is no forecast.",
    )
    schedules = ScheduleSerializer(many=True, read_only=True)


class DoseMedicationSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    strength = serializers.CharField(read_only=True)


class DoseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    schedule_id = serializers.IntegerField(read_only=True)
    medication = serializers.SerializerMethodField(
        help_text="Always shown to the patient; to a caregiver only when the patient allows "
        "them medication details, else null."
    )
    due_at = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=Dose.Status.choices, read_only=True)
    snoozed_until = serializers.DateTimeField(read_only=True, allow_null=True)
    recorded_at = serializers.DateTimeField(read_only=True, allow_null=True)

    @extend_schema_field(DoseMedicationSerializer(allow_null=True))
    def get_medication(self, dose: Dose) -> dict[str, Any] | None:
        # Decided before the medicine is read, so a hidden one is not even fetched.
        if not self.context.get(MEDICATION_VISIBLE, False):
            return None
        return dict(DoseMedicationSerializer(dose.schedule.supply.medicine).data)


class PatientSerializer(serializers.Serializer):
    """A patient linked to the caller (a ``CaregiverLink``); ``id`` is the patient's."""

    id = serializers.IntegerField(source="patient_id", read_only=True)
    name = serializers.CharField(source="patient", read_only=True)
    escalation_delay_minutes = serializers.IntegerField(
        read_only=True,
        help_text="Minutes after a dose is marked missed before the caller is told.",
    )
    can_see_medication_details = serializers.BooleanField(read_only=True)
