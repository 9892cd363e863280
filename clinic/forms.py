from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from notifications.api.staff_serializers import CONTENT_MAX_LENGTH
from notifications.models import Channel, Priority

from .dashboard import DateRange

DEFAULT_DAYS = 14
MAX_DAYS = 366
EARLIEST = datetime.date(2000, 1, 1)


class DateRangeForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def default(self) -> DateRange:
        return DateRange(self.today - datetime.timedelta(days=DEFAULT_DAYS - 1), self.today)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fallback = self.default()
        start = data.get("start") or fallback.start
        end = data.get("end") or fallback.end
        for name, value in (("start", start), ("end", end)):
            if not EARLIEST <= value <= self.today + datetime.timedelta(days=1):
                self.add_error(name, _("Choose a date between 2000-01-01 and tomorrow."))
        if start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error("end", _("Choose at most %(days)d days.") % {"days": MAX_DAYS})
        data["period"] = DateRange(start, end)
        return data

    def period(self) -> DateRange:
        """The chosen range, or the last two weeks when the choice is not valid."""
        return self.cleaned_data["period"] if self.is_valid() else self.default()


class BroadcastForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    content = forms.CharField(
        label=_("Message"), max_length=CONTENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5})
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    target_user_types = forms.MultipleChoiceField(
        label=_("Send to"),
        choices=get_user_model().UserType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each person still gets only the channels they allow."),
    )
    require_acknowledgment = forms.BooleanField(
        label=_("Ask people to acknowledge it"), required=False
    )
