"""Input rules shared by the API's serializers."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

TIME_FORMAT = "%H:%M"
# Calendar days the API accepts anywhere: a patient's dose history and a medicine's expiry
# fall in this range; 0001-01-01 or 9999-12-31 are typing errors (and 9999-12-31 plus a
# time zone overflows).
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)
HH_MM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


# Not OpenAPI's "time" format: that is RFC 3339's "22:00:00+02:00", and these are wall-clock
# times in the user's own zone.
@extend_schema_field({"type": "string", "pattern": HH_MM_PATTERN, "example": "22:00"})
class HourMinuteField(serializers.TimeField):
    """A wall-clock time written "HH:MM", in and out ("25:00" is refused, naming the field)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=TIME_FORMAT, input_formats=[TIME_FORMAT], **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "pattern": r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$",
        "example": "2026-12-31",
    }
)
class CalendarDayField(serializers.DateField):
    """A calendar day "YYYY-MM-DD" between ``EARLIEST_DAY`` and ``LATEST_DAY`` (by default;
    narrower bounds may be given)."""

    def __init__(
        self,
        *,
        earliest: datetime.date = EARLIEST_DAY,
        latest: datetime.date = LATEST_DAY,
        **kwargs: Any,
    ) -> None:
        super().__init__(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], **kwargs)
        self.earliest, self.latest = earliest, latest

    def to_internal_value(self, value: Any) -> datetime.date:
        day = super().to_internal_value(value)
        if not self.earliest <= day <= self.latest:
            raise serializers.ValidationError(
                _("Enter a day between %(earliest)s and %(latest)s.")
                % {"earliest": self.earliest.isoformat(), "latest": self.latest.isoformat()}
            )
        return day


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """DRF's message for a JSON value of another type than the one ``field`` documents, else
    None. DRF coerces (``"true"`` to True, ``12`` to ``"12"``); the OpenAPI document promises
    a type, and a client sending another has a bug that should not pass silently."""
    if value is None:
        return None  # DRF's own null check names it
    if isinstance(field, serializers.BooleanField):
        wrong = not isinstance(value, bool)
    elif isinstance(field, serializers.IntegerField):
        wrong = isinstance(value, bool) or not isinstance(value, int)
    elif isinstance(field, serializers.DecimalField):
        # Documented as a decimal string or a JSON number.
        wrong = isinstance(value, bool) or not isinstance(value, (str, int, float))
    elif isinstance(field, serializers.CharField):
        wrong = not isinstance(value, str)
    elif isinstance(field, serializers.ListField):
        if isinstance(value, list):
            return None
        return str(field.error_messages["not_a_list"].format(input_type=type(value).__name__))
    else:
        return None  # choices, days and times refuse other types themselves
    return str(field.error_messages["invalid"]) if wrong else None


class StrictFieldsMixin(serializers.Serializer):
    """Refuses keys the serializer does not accept for writing.

    DRF ignores unknown and read-only keys; a client that sends `"status": "read"` or a
    misspelt `"quiet_hour_start"` would believe it changed something. Naming them is
    safer than ignoring them, and nothing outside the declared writable fields can ever
    reach a model (no mass assignment).
    """

    def to_internal_value(self, data: Any) -> Any:
        refused: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            for key, value in data.items():
                field = self.fields.get(key)
                if field is None:
                    refused[str(key)] = [str(_("Unknown field."))]
                elif field.read_only:
                    refused[str(key)] = [str(_("This field is read-only."))]
                elif (wrong_type := json_type_error(field, value)) is not None:
                    refused[str(key)] = [wrong_type]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not refused or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **refused}) from None
        if refused:
            raise serializers.ValidationError(refused)
        return value


class EmptyBodySerializer(StrictFieldsMixin, serializers.Serializer):
    """An action that takes no input: any key is refused, so that a client sending, say, a
    time taken or a status learns that it was not recorded."""


def refuse_any_body(request: Request) -> None:
    """400 naming every field of a body sent to an action that takes none (and a 400 for a
    body that is not JSON, from the parser)."""
    EmptyBodySerializer(data=request.data).is_valid(raise_exception=True)
