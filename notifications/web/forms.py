from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from notifications.api.serializers import PREFERENCE_FIELDS
from notifications.models import UserNotificationPreferences

TIME_FORMAT = "%H:%M"


def _time_field(field: Any, **kwargs: Any) -> forms.Field | None:
    if field.name in {"email_custom_time", "quiet_hours_start", "quiet_hours_end"}:
        return forms.TimeField(
            # A label is a sentence; the model's verbose name is lower case by Django's
            # convention (as every other field's label, via formfield()).
            label=capfirst(field.verbose_name),
            required=not field.blank,
            input_formats=[TIME_FORMAT],
            widget=forms.TimeInput(format=TIME_FORMAT, attrs={"type": "time"}),
            help_text=_("HH:MM"),
        )
    return field.formfield(**kwargs)


# The form's sections, in order: (legend, field names).
GROUPS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (
        _("How to reach me"),
        (
            "in_app_notifications_enabled",
            "email_notifications_enabled",
            "sms_notifications_enabled",
            "push_notifications_enabled",
        ),
    ),
    (
        _("Which notifications"),
        (
            "medication_reminders_enabled",
            "stock_alerts_enabled",
            "system_notifications_enabled",
            "show_medication_names_in_sms_push",
        ),
    ),
    (_("Email timing"), ("email_time_preference", "email_custom_time")),
    (_("Quiet hours"), ("quiet_hours_enabled", "quiet_hours_start", "quiet_hours_end")),
)


@dataclass(frozen=True)
class FieldGroup:
    legend: str
    fields: list[forms.BoundField]


class PreferencesForm(forms.ModelForm):
    """Every preference a user can change; times as HH:MM. The model's ``clean`` adds the
    "custom email time needs a time" rule, reported next to that field."""

    class Meta:
        model = UserNotificationPreferences
        fields = PREFERENCE_FIELDS
        formfield_callback = _time_field

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def groups(self) -> list[FieldGroup]:
        return [FieldGroup(str(legend), [self[name] for name in names]) for legend, names in GROUPS]
