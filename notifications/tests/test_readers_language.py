"""Everything a reader sees follows their language: amounts of medicine with the language's
plural forms, and labels written as sentences."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.utils import translation

from accounts.models import User
from medications.units import Unit, amount_of
from notifications.models import Notification
from notifications.rendering.messages import TemplateOverrides, render_message

LOW_STOCK = {
    "medication_name": "Amlodipine 5 mg",
    "days_of_supply": 4,
    "run_out_date": "2026-12-04",
    "quantity_on_hand": "4.00",
    "unit": "tablets",
}


def low_stock_text(language: str, channel: str = "in_app", **context: Any) -> str:
    notification = Notification(pk=7, event="low_stock", context={**LOW_STOCK, **context})
    reader = User(username="johan", first_name="Johan", preferred_language=language)
    message = render_message(
        notification,
        reader,
        channel=channel,
        show_medication_name=True,
        overrides=TemplateOverrides.empty(),
    )
    return message.content if channel == "in_app" else message.text


@pytest.mark.parametrize(
    ("language", "quantity", "unit", "expected"),
    [
        ("en", 1, Unit.TABLETS, "1 tablet"),
        ("en", 4, Unit.TABLETS, "4 tablets"),
        ("af", 1, Unit.TABLETS, "1 tablet"),
        ("af", 4, Unit.TABLETS, "4 tablette"),
        ("af", Decimal("4.00"), Unit.TABLETS, "4 tablette"),
        ("af", 30, Unit.CAPSULES, "30 kapsules"),
        ("af", 3, Unit.PENS, "3 penne"),
        ("af", 1, Unit.UNITS, "1 eenheid"),
        ("af", 20, Unit.UNITS, "20 eenhede"),
        ("en", Decimal("2.5"), Unit.MILLILITRES, "2.5 ml"),
        ("af", Decimal("2.5"), Unit.MILLILITRES, "2,5 ml"),
        ("en", Decimal("1.5"), Unit.TABLETS, "1.5 tablets"),
        ("af", Decimal("1.5"), Unit.TABLETS, "1,5 tablette"),
        ("en", 2, Unit.SUPPOSITORIES, "2 suppositories"),
        ("af", 2, Unit.SUPPOSITORIES, "2 setpille"),
    ],
)
def test_an_amount_reads_in_the_readers_language_with_its_plural_form(
    language: str, quantity: int | Decimal, unit: str, expected: str
) -> None:
    with translation.override(language):
        assert amount_of(quantity, unit) == expected


def test_every_unit_has_its_afrikaans_words_in_both_plural_forms() -> None:
    with translation.override("en"):
        english = {unit: (amount_of(1, unit), amount_of(2, unit)) for unit in Unit.values}
        labels_en = {unit: str(label) for unit, label in Unit.choices}
    with translation.override("af"):
        afrikaans = {unit: (amount_of(1, unit), amount_of(2, unit)) for unit in Unit.values}
        labels_af = {unit: str(label) for unit, label in Unit.choices}

    # Only the metric symbols read the same in both languages.
    same = {unit for unit in Unit.values if english[unit] == afrikaans[unit]}
    assert same == {Unit.MILLILITRES, Unit.GRAMS}
    assert {unit for unit in Unit.values if labels_en[unit] == labels_af[unit]} == set()


def test_a_unit_typed_by_hand_is_shown_as_written_and_no_unit_gives_the_number() -> None:
    with translation.override("af"):
        assert amount_of(5, "spoons") == "5 spoons"
        assert amount_of(Decimal("2.50"), "") == "2,5"


def test_johans_low_stock_alert_counts_his_tablets_in_afrikaans() -> None:
    assert "Jy het nog 4 tablette oor." in low_stock_text("af")
    assert "Jy het nog 4 tablette oor." in low_stock_text("af", channel="email")
    assert "You have 4 tablets left." in low_stock_text("en")
    assert "You have 1 tablet left." in low_stock_text("en", quantity_on_hand="1")


def test_a_caregivers_low_stock_alert_counts_the_patients_capsules_in_afrikaans() -> None:
    text = low_stock_text("af", patient_name="Thandi", quantity_on_hand="1", unit="capsules")

    assert "Thandi het nog 1 kapsule oor." in text


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"label", "legend"}:
            self._in.append("")

    def handle_data(self, data: str) -> None:
        if self._in:
            self._in[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in {"label", "legend"} and self._in:
            self.labels.append(" ".join(self._in.pop().split()))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "af"])
def test_every_label_on_the_preferences_page_is_written_as_a_sentence(
    client, language: str
) -> None:
    user = User.objects.create_user(
        username="reader", password="x-long-password-1", preferred_language=language
    )
    client.force_login(user)

    page = client.get("/notifications/preferences/").content.decode()
    parser = _Labels()
    parser.feed(page)

    assert len(parser.labels) >= 15
    lowercase = [label for label in parser.labels if not re.match(r"[A-Z]", label)]
    assert lowercase == []
    expected = {"en": "Quiet hours start", "af": "Begin van stil ure"}[language]
    assert expected in parser.labels
    hint = {"en": "HH:MM", "af": "UU:MM"}[language]
    assert hint in page
