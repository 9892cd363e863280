"""``{{ quantity_on_hand|amount_of:unit }}``: "4 tablets", "4 tablette" — the amount in the
language the message is rendered in (see ``medications.units``)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from medications.units import amount_of as amount_in_words

register = template.Library()


@register.filter
def amount_of(quantity: int | Decimal | None, unit: str | None) -> str:
    if quantity is None:
        return ""
    return amount_in_words(quantity, unit or "")
