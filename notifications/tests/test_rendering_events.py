"""Every event on every channel in both languages, in the reader's zone and formats."""

from __future__ import annotations

import datetime

import pytest
from django.template.loader import get_template
from django.utils import formats, translation

from notifications.events import EVENTS
from notifications.tests.rendering_cases import (
    ALL_FIELDS,
    CHANNELS,
    CONTEXTS,
    DOSE_TIME,
    JOHANNESBURG,
    LONDON,
    MEDICATION,
    PARTS_OF_CHANNEL,
    REQUIRED_PARTS,
    render,
)

# --- Every event, every channel, both languages -----------------------------------------------


@pytest.mark.parametrize("event", sorted(EVENTS))
@pytest.mark.parametrize("part", REQUIRED_PARTS)
def test_every_event_ships_every_required_template_file(event: str, part: str) -> None:
    assert get_template(f"notifications/{event}/{part}")


@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_renders_every_part_of_every_channel_in_both_languages(
    event: str, channel: str, language: str
) -> None:
    message = render(event, channel, language=language)

    for field in ALL_FIELDS:
        value = getattr(message, field)
        if field in PARTS_OF_CHANNEL[channel]:
            assert value.strip(), f"{field} is empty"
            assert "{{" not in value
            assert "{%" not in value
        else:
            assert value == "", f"{field} was rendered for {channel}"


@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_renders_without_any_of_its_context(
    event: str, channel: str, language: str
) -> None:
    message = render(event, channel, language=language, context={})

    assert all(getattr(message, field).strip() for field in PARTS_OF_CHANNEL[channel])


@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_in_app_title_is_one_line_and_content_one_paragraph(event: str, language: str) -> None:
    message = render(event, "in_app", language=language)

    assert "\n" not in message.title
    assert "\n" not in message.content
    assert message.content == message.content.strip()


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="carrier_pigeon"):
        render("test", "carrier_pigeon")


# --- Language, time zone and South African formats ----------------------------------------------


def test_reminder_for_an_afrikaans_user_is_in_afrikaans_with_a_24_hour_local_time() -> None:
    message = render("medication_reminder", "in_app", language="af")

    assert message.title == "Tyd om Metformin 500 mg te neem"
    assert message.content == "1 tablet om 13:30. Take with food."


def test_reminder_for_an_english_user_is_in_english_with_a_24_hour_local_time() -> None:
    message = render("medication_reminder", "in_app", language="en")

    assert message.title == "Time to take Metformin 500 mg"
    assert message.content == "1 tablet at 13:30. Take with food."


def test_the_same_dose_time_reads_in_each_recipients_own_time_zone() -> None:
    in_johannesburg = render("medication_reminder", "sms", zone=JOHANNESBURG)
    in_london = render("medication_reminder", "sms", zone=LONDON)

    assert "(13:30)" in in_johannesburg.sms
    assert "(11:30)" in in_london.sms


def test_afrikaans_sms_reminder_without_the_name_says_jou_medikasie() -> None:
    message = render("medication_reminder", "sms", language="af", show_medication_name=False)

    assert message.sms == (
        "MedGuard: dis tyd om jou medikasie te neem (13:30). Maak die app oop vir besonderhede."
    )


def test_english_sms_reminder_without_the_name_says_your_medication() -> None:
    message = render("medication_reminder", "sms", show_medication_name=False)

    assert message.sms == (
        "MedGuard: it's time to take your medication (13:30). Open the app for details."
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Metformin 500 mg expires on 28 November 2026, in 14 days."),
        ("af", "Metformin 500 mg verval op 28 November 2026, oor 14 dae."),
    ],
)
def test_dates_are_written_day_month_year_in_both_languages(language: str, expected: str) -> None:
    message = render("expiry_warning", "in_app", language=language)

    assert message.content.startswith(expected)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Metformin 500 mg expired on 1 March 2026."),
        ("af", "Metformin 500 mg het op 1 Maart 2026 verval."),
    ],
)
def test_month_names_are_in_the_recipients_language(language: str, expected: str) -> None:
    context = {"medication_name": MEDICATION, "expiry_date": "2026-03-01"}

    message = render("medication_expired", "in_app", language=language, context=context)

    assert message.content.startswith(expected)


@pytest.mark.parametrize(
    ("days", "language", "expected"),
    [
        (1, "en", "Metformin 500 mg is running low: about 1 day left (until 28 November 2026)."),
        (5, "en", "Metformin 500 mg is running low: about 5 days left (until 28 November 2026)."),
        (1, "af", "Metformin 500 mg raak min: nog sowat 1 dag oor (tot 28 November 2026)."),
        (5, "af", "Metformin 500 mg raak min: nog sowat 5 dae oor (tot 28 November 2026)."),
        (0, "en", "Metformin 500 mg is about to run out."),
    ],
)
def test_low_stock_counts_days_with_the_languages_plural(
    days: int, language: str, expected: str
) -> None:
    context = {**CONTEXTS["low_stock"], "days_of_supply": days}

    message = render("low_stock", "in_app", language=language, context=context)

    assert message.content.startswith(expected)


def test_low_stock_quantity_takes_the_afrikaans_decimal_comma() -> None:
    context = {**CONTEXTS["low_stock"], "quantity_on_hand": "12.5", "unit": "ml"}

    message = render("low_stock", "in_app", language="af", context=context)

    assert "Jy het nog 12,5 ml oor." in message.content


def test_low_stock_days_of_supply_are_truncated_so_a_refill_is_never_late() -> None:
    context = {**CONTEXTS["low_stock"], "days_of_supply": "5.9"}

    assert "about 5 days left" in render("low_stock", "in_app", context=context).content


def test_missed_dose_tells_a_caregiver_who_missed_which_dose() -> None:
    message = render("missed_dose", "in_app")

    assert message.title == "Thandi may have missed a dose"
    assert message.content == (
        "Thandi has not recorded their 13:30 dose of Metformin 500 mg. "
        "You may want to check in with them."
    )


def test_missed_dose_without_a_medication_name_still_reads_naturally() -> None:
    context = {"patient_name": "Thandi", "dose_time": DOSE_TIME}

    message = render("missed_dose", "sms", context=context)

    assert message.sms == (
        "MedGuard: Thandi has not recorded their 13:30 dose. Open the app for details."
    )


@pytest.mark.parametrize(
    ("language", "date", "time", "short_date", "number"),
    [
        ("en", "28 November 2026", "13:30", "2026/11/28", "2.5"),
        ("af", "28 November 2026", "13:30", "2026/11/28", "2,5"),
    ],
)
def test_south_african_formats_in_both_languages(
    language: str, date: str, time: str, short_date: str, number: str
) -> None:
    with translation.override(language):
        assert formats.date_format(datetime.date(2026, 11, 28)) == date
        assert formats.time_format(datetime.time(13, 30)) == time
        assert formats.date_format(datetime.date(2026, 11, 28), "SHORT_DATE_FORMAT") == short_date
        assert formats.number_format(2.5) == number
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
