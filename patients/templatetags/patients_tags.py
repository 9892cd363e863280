from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from patients.forms import WEEKDAYS

register = template.Library()


@register.filter
def weekdays(mask: int) -> str:
    """A schedule's days in words: "Every day", or the days' names in order."""
    if mask & 0b1111111 == 0b1111111:
        return _("Every day")
    return ", ".join(str(label) for bit, label in WEEKDAYS if mask & bit)
