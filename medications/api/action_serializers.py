"""What the medications API accepts: a restock, a snooze, the dose list's query."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from medications.models import Dose
from notifications.api.validation import (
    CalendarDayField,
    EmptyBodySerializer,
    StrictFieldsMixin,
)

__all__ = ["EmptyBodySerializer"]

# A restock is one delivery from a pharmacy; more than this is a typing error.
MAX_RESTOCK_QUANTITY = Decimal(10000)
# Medicines are labelled with shelf lives of at most about five years; a later expiry date
# is a typing error (9999-12-31 would never warn anyone).
MAX_SHELF_LIFE_YEARS = 10


# 0.01 to 10000, at most two decimal places.
QUANTITY_PATTERN = r"^(?:10000(?:\.0{1,2})?|[1-9]\d{0,3}(?:\.\d{1,2})?|0\.(?:[1-9]\d?|0[1-9]))$"


# Not DRF's generated pattern, which allows a sign: only what can pass is documented.
@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "format": "decimal", "pattern": QUANTITY_PATTERN},
            {"type": "number", "minimum": 0.01, "maximum": 10000, "multipleOf": 0.01},
        ],
        "example": "30",
    }
)
class RestockQuantityField(serializers.DecimalField):
    """A decimal string, or a JSON number with at most two decimal places."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, float) and math.isfinite(data):
            # 0.57 arrives as the binary 0.5700000000000001: read it as the decimal it
            # stands for when that has at most two places, as JSON Schema's multipleOf does.
            cents = round(data, 2)
            if math.isclose(data, cents, rel_tol=0, abs_tol=1e-9):
                data = f"{cents:.2f}"
        return super().to_internal_value(data)


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
    expiry_date = CalendarDayField(
        required=False,
        help_text="The new stock's expiry date; replaces the supply's. Not in the past, "
        f"and at most {MAX_SHELF_LIFE_YEARS} years ahead.",
    )

    def validate_expiry_date(self, value: datetime.date) -> datetime.date:
        today: datetime.date = self.context["today"]
        if value < today:
            raise serializers.ValidationError(_("This expiry date has already passed."))
        if value > latest_expiry(today):
            raise serializers.ValidationError(
                _("An expiry date is at most %(years)d years ahead: enter one up to %(day)s.")
                % {"years": MAX_SHELF_LIFE_YEARS, "day": latest_expiry(today).isoformat()}
            )
        return value


def latest_expiry(today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year + MAX_SHELF_LIFE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_SHELF_LIFE_YEARS, day=28)


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

    def to_internal_value(self, data: Any) -> Any:
        # DRF reads `?to=` as "not given"; the schema says a day, so an empty one is refused.
        blank: dict[str, list[str]] = {
            str(name): [str(_("This field may not be blank."))]
            for name in self.fields
            if hasattr(data, "get") and data.get(name) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "from" in attrs and "to" in attrs and attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("This day is before the “from” day.")]})
        return attrs
