"""Input rules shared by the API's serializers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

TIME_FORMAT = "%H:%M"
HH_MM_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


# Not OpenAPI's "time" format: that is RFC 3339's "22:00:00+02:00", and these are wall-clock
# times in the user's own zone.
@extend_schema_field({"type": "string", "pattern": HH_MM_PATTERN, "example": "22:00"})
class HourMinuteField(serializers.TimeField):
    """A wall-clock time written "HH:MM", in and out ("25:00" is refused, naming the field)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=TIME_FORMAT, input_formats=[TIME_FORMAT], **kwargs)


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
            for key in data:
                field = self.fields.get(key)
                if field is None:
                    refused[str(key)] = [str(_("Unknown field."))]
                elif field.read_only:
                    refused[str(key)] = [str(_("This field is read-only."))]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not refused or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **refused}) from None
        if refused:
            raise serializers.ValidationError(refused)
        return value
