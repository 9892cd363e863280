"""The units a supply is counted in, and how an amount of them reads in the reader's language.

A supply stores the unit's key ("tablets"); the words are chosen when a message is rendered,
inside the recipient's language, with that language's plural forms: "1 tablet", "4 tablets",
"4 tablette", "2,5 ml".
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import npgettext_lazy

# gettext chooses a plural form from a whole number. English and Afrikaans read every
# fraction as plural ("1,5 tablette"), as CLDR says; 2 selects that form in both.
FRACTION_PLURAL_COUNT = 2


class Unit(models.TextChoices):
    TABLETS = "tablets", _("Tablets")
    CAPSULES = "capsules", _("Capsules")
    MILLILITRES = "ml", _("Millilitres (ml)")
    GRAMS = "g", _("Grams (g)")
    DROPS = "drops", _("Drops")
    DOSES = "doses", _("Doses (puffs, sprays)")
    SACHETS = "sachets", _("Sachets")
    PATCHES = "patches", _("Patches")
    PENS = "pens", _("Pens")
    VIALS = "vials", _("Vials")
    AMPOULES = "ampoules", _("Ampoules")
    SUPPOSITORIES = "suppositories", _("Suppositories")
    UNITS = "units", _("Units (insulin)")


_CONTEXT = "amount of a medicine"

_AMOUNTS: dict[str, Promise] = {
    Unit.TABLETS: npgettext_lazy(_CONTEXT, "%(amount)s tablet", "%(amount)s tablets", "count"),
    Unit.CAPSULES: npgettext_lazy(_CONTEXT, "%(amount)s capsule", "%(amount)s capsules", "count"),
    Unit.MILLILITRES: npgettext_lazy(_CONTEXT, "%(amount)s ml", "%(amount)s ml", "count"),
    Unit.GRAMS: npgettext_lazy(_CONTEXT, "%(amount)s g", "%(amount)s g", "count"),
    Unit.DROPS: npgettext_lazy(_CONTEXT, "%(amount)s drop", "%(amount)s drops", "count"),
    Unit.DOSES: npgettext_lazy(_CONTEXT, "%(amount)s dose", "%(amount)s doses", "count"),
    Unit.SACHETS: npgettext_lazy(_CONTEXT, "%(amount)s sachet", "%(amount)s sachets", "count"),
    Unit.PATCHES: npgettext_lazy(_CONTEXT, "%(amount)s patch", "%(amount)s patches", "count"),
    Unit.PENS: npgettext_lazy(_CONTEXT, "%(amount)s pen", "%(amount)s pens", "count"),
    Unit.VIALS: npgettext_lazy(_CONTEXT, "%(amount)s vial", "%(amount)s vials", "count"),
    Unit.AMPOULES: npgettext_lazy(_CONTEXT, "%(amount)s ampoule", "%(amount)s ampoules", "count"),
    Unit.SUPPOSITORIES: npgettext_lazy(
        _CONTEXT, "%(amount)s suppository", "%(amount)s suppositories", "count"
    ),
    Unit.UNITS: npgettext_lazy(_CONTEXT, "%(amount)s unit", "%(amount)s units", "count"),
}


def _whole_or_exact(quantity: int | Decimal) -> int | Decimal:
    # 4.00 on hand reads "4"; 2.50 reads "2.5" (with the language's decimal mark).
    number = Decimal(quantity)
    return int(number) if number == number.to_integral_value() else number.normalize()


def plural_count(quantity: int | Decimal) -> int:
    number = _whole_or_exact(quantity)
    return number if isinstance(number, int) else FRACTION_PLURAL_COUNT


def amount_of(quantity: int | Decimal, unit: str) -> str:
    """``quantity`` of ``unit`` in the active language: "4 tablette" in Afrikaans.

    A unit this module does not know (typed by hand before units were a choice) is shown
    as written after the number; no unit gives the number alone.
    """
    number = number_format(_whole_or_exact(quantity))
    words = _AMOUNTS.get(unit)
    if words is None:
        return f"{number} {unit}".strip()
    return str(words % {"amount": number, "count": plural_count(quantity)})
