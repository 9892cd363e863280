"""What the medications API accepts: a restock, a snooze, the dose list's query."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from medications.models import Dose
from notifications.api.validation import StrictFieldsMixin

# A restock is one delivery from a pharmacy; more than this is a typing error.
MAX_RESTOCK_QUANTITY = Decimal(10000)


# Not DRF's generated pattern, which allows a sign: only what can pass is documented.
@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d{1,5}(\.\d{1,2})?$", "example": "30"}
)
class RestockQuantityField(serializers.DecimalField):
    pass


class RestockSerializer(StrictFieldsMixin, serializers.Serializer):
    """A restock: what was added, and the new stock's expiry date."""

    # Validation needs the patient's local date: ``context["today"]``.
    quantity = RestockQuantityField(
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_RESTOCK_QUANTITY,
        help_text="Units added to the quantity on hand (in the supply's unit): more than 0, "
        "at most 10000, at most 2 decimal places. A JSON number is accepted too.",
    )
    expiry_date = serializers.DateField(
        required=False,
        help_text="The new stock's expiry date; replaces the supply's. Not in the past.",
    )

    def validate_expiry_date(self, value: datetime.date) -> datetime.date:
        if value < self.context["today"]:
            raise serializers.ValidationError(_("This expiry date has already passed."))
        return value


class SnoozeSerializer(StrictFieldsMixin, serializers.Serializer):
    """When to be reminded again."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built per request: the bounds are settings, which may change (and tests change).
        fields = super().get_fields()
        fields["minutes"] = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=settings.MEDICATION_SNOOZE_MAX_MINUTES,
            help_text="Remind again after this many minutes (default "
            f"{settings.MEDICATION_SNOOZE_DEFAULT_MINUTES}).",
        )
        return fields


class EmptyBodySerializer(StrictFieldsMixin, serializers.Serializer):
    """Take and skip accept no input: any key is refused, so that a client sending, say, a
    time taken learns that it was not recorded."""


class DoseQuerySerializer(serializers.Serializer):
    """``?status=&from=&to=``; ``from`` and ``to`` are Python keywords, hence ``get_fields``."""

    status = serializers.ChoiceField(
        choices=Dose.Status.choices, required=False, help_text="Only doses in this state."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False,
            help_text="Only doses due on this day or later (the patient's own calendar day).",
        )
        fields["to"] = serializers.DateField(
            required=False,
            help_text="Only doses due on this day or earlier (the patient's own calendar day).",
        )
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "from" in attrs and "to" in attrs and attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("This day is before the “from” day.")]})
        return attrs
