"""The patient pages' forms. Labels are the models' own verbose names where one exists, so
the admin, the API's errors and these pages say the same thing."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from medications.models import EVERY_DAY, Medicine, Schedule
from medications.units import Unit

TIME_FORMAT = "%H:%M"
WEEKDAYS = (
    (1, _("Monday")),
    (2, _("Tuesday")),
    (4, _("Wednesday")),
    (8, _("Thursday")),
    (16, _("Friday")),
    (32, _("Saturday")),
    (64, _("Sunday")),
)


class ScheduleForm(forms.Form):
    slot = forms.ChoiceField(
        label=_("When I take it"), choices=Schedule.Slot.choices, initial=Schedule.Slot.MORNING
    )
    custom_time = forms.TimeField(
        label=_("Custom time"),
        required=False,
        input_formats=[TIME_FORMAT],
        widget=forms.TimeInput(format=TIME_FORMAT, attrs={"type": "time"}),
        help_text=_("Only for a custom time, in your own time zone (HH:MM)."),
    )
    days = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAYS,
        coerce=int,
        initial=[bit for bit, _label in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
    )
    dose_quantity = forms.DecimalField(
        label=_("How many each time"),
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        initial=Decimal(1),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("slot") == Schedule.Slot.CUSTOM and data.get("custom_time") is None:
            self.add_error("custom_time", _("Choose a time for a custom schedule."))
        return data

    def schedule_values(self, start_date: datetime.date) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "slot": data["slot"],
            "custom_time": data["custom_time"],
            "days_of_week": sum(data["days"]) or EVERY_DAY,
            "dose_quantity": data["dose_quantity"],
            "start_date": start_date,
        }


class MedicineForm(forms.Form):
    name = forms.CharField(label=_("Medicine name"), max_length=200)
    strength = forms.CharField(
        label=_("Strength"), max_length=50, required=False, help_text=_("For example 500 mg.")
    )
    form = forms.ChoiceField(label=_("Form"), choices=Medicine.Form.choices)
    dosage = forms.CharField(
        label=_("Dosage"), max_length=100, help_text=_("For example 1 tablet.")
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        max_length=300,
        required=False,
        help_text=_("For example: with food."),
    )
    unit = forms.ChoiceField(label=_("Counted in"), choices=Unit.choices, initial=Unit.TABLETS)
    quantity_on_hand = forms.DecimalField(
        label=_("How many I have now"),
        min_value=Decimal(0),
        max_value=Decimal("9999999"),
        max_digits=10,
        decimal_places=2,
        initial=Decimal(0),
    )


class SupplyForm(forms.Form):
    dosage = forms.CharField(label=_("Dosage"), max_length=100)
    instructions = forms.CharField(label=_("Instructions"), max_length=300, required=False)
    warning_days = forms.IntegerField(
        label=_("Warn me this many days before I run out"), min_value=0, max_value=90
    )


class RestockForm(forms.Form):
    quantity = forms.DecimalField(
        label=_("Quantity added"),
        min_value=Decimal("0.01"),
        max_value=Decimal("9999999"),
        max_digits=10,
        decimal_places=2,
    )
    expiry_date = forms.DateField(
        label=_("Expiry date of the new stock"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )


class LinkSettingsForm(forms.Form):
    can_see_medication_details = forms.BooleanField(
        label=_("May see which medicines I take"), required=False
    )
    escalation_delay_minutes = forms.IntegerField(
        label=_("Tell them about a missed dose after this many minutes"),
        min_value=0,
        max_value=24 * 60,
        initial=30,
    )


def is_mobile(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the number can receive a text message, as far as its numbering plan tells
    (some countries' plans cannot tell fixed lines from mobiles: those are let through)."""
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


class InvitationForm(LinkSettingsForm):
    """An invitation goes to an email address or, by SMS, to a mobile number: one of them."""

    email = forms.EmailField(label=_("Caregiver's email address"), max_length=254, required=False)
    phone = PhoneNumberField(
        label=_("Or their mobile number"),
        region="ZA",
        required=False,
        help_text=_("We text them the link. A South African number may start with 0."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )

    field_order = ["email", "phone", "can_see_medication_details", "escalation_delay_minutes"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, phone = data.get("email"), data.get("phone")
        if self.errors.get("email") or self.errors.get("phone"):
            return data
        if email and phone:
            self.add_error("phone", _("Give an email address or a mobile number, not both."))
        elif not email and not phone:
            self.add_error("email", _("Give the caregiver's email address or mobile number."))
        elif phone and not is_mobile(phone):
            self.add_error(
                "phone", _("This is not a mobile number: a text message cannot reach it.")
            )
        return data
