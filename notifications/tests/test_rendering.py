"""Messages as recipients read them: every event on every channel, in English and Afrikaans,
in the recipient's time zone, without leaking medication names or HTML."""

from __future__ import annotations

import datetime
import gettext
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import get_template
from django.utils import formats, translation

from accounts.models import User
from notifications.events import EVENTS
from notifications.models import Notification, NotificationTemplate, TemplatePart
from notifications.rendering.messages import (
    RenderedMessage,
    TemplateOverrides,
    english_copy,
    message_context,
    render_digest,
    render_in_app,
    render_message,
)
from notifications.rendering.sms_text import GSM7_BASIC, GSM7_EXTENSION, fit_single_sms, gsm7

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
LONDON = ZoneInfo("Europe/London")
NO_OVERRIDES = TemplateOverrides.empty()
CHANNELS = ("in_app", "email", "sms", "push")
PARTS_OF_CHANNEL = {
    "in_app": ("title", "content"),
    "email": ("subject", "text", "html"),
    "sms": ("sms",),
    "push": ("push_title", "push_body"),
}
ALL_FIELDS = ("title", "content", "subject", "text", "html", "sms", "push_title", "push_body")
REQUIRED_PARTS = ("title.txt", "content.txt", "email.html", "sms.txt", "push_title.txt", "push.txt")
MEDICATION = "Metformin 500 mg"

# 11:30 UTC: 13:30 in Johannesburg (UTC+2), 11:30 in London (GMT in November).
DOSE_TIME = "2026-11-28T11:30:00+00:00"

CONTEXTS: dict[str, dict[str, Any]] = {
    "custom": {},
    "test": {},
    "medication_reminder": {
        "medication_name": MEDICATION,
        "dosage": "1 tablet",
        "instructions": "Take with food.",
        "dose_time": DOSE_TIME,
    },
    "missed_dose": {
        "patient_name": "Thandi",
        "dose_time": DOSE_TIME,
        "medication_name": MEDICATION,
    },
    "low_stock": {
        "medication_name": MEDICATION,
        "days_of_supply": 5,
        "run_out_date": "2026-11-28",
        "quantity_on_hand": 10,
        "unit": "tablets",
    },
    "expiry_warning": {
        "medication_name": MEDICATION,
        "expiry_date": "2026-11-28",
        "days_until_expiry": 14,
    },
    "medication_expired": {"medication_name": MEDICATION, "expiry_date": "2026-11-28"},
}
MEDICATION_EVENTS = sorted(key for key, event in EVENTS.items() if event.mentions_medication)


def person(language: str = "en", zone: ZoneInfo = JOHANNESBURG, **fields: Any) -> User:
    """An unsaved user: rendering reads only these fields."""
    fields.setdefault("username", "anna")
    fields.setdefault("first_name", "Anna")
    return User(preferred_language=language, timezone=zone, **fields)


def notification(event: str, context: dict[str, Any] | None = None, **fields: Any) -> Notification:
    fields.setdefault("pk", 42)
    fields.setdefault("title", "Pharmacy closed on Friday")
    fields.setdefault("content", "Collect your medication on Thursday.")
    return Notification(
        event=event, context=CONTEXTS[event] if context is None else context, **fields
    )


def render(
    event: str,
    channel: str,
    *,
    language: str = "en",
    zone: ZoneInfo = JOHANNESBURG,
    show_medication_name: bool = True,
    context: dict[str, Any] | None = None,
    **fields: Any,
) -> RenderedMessage:
    return render_message(
        notification(event, context, **fields),
        person(language, zone),
        channel=channel,
        show_medication_name=show_medication_name,
        overrides=NO_OVERRIDES,
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


# --- Privacy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("channel", ["sms", "push"])
@pytest.mark.parametrize("event", MEDICATION_EVENTS)
def test_sms_and_push_never_name_the_medication_unless_the_user_chose_so(
    event: str, channel: str, language: str
) -> None:
    hidden = render(event, channel, language=language, show_medication_name=False)
    shown = render(event, channel, language=language, show_medication_name=True)

    hidden_text = " ".join(getattr(hidden, field) for field in PARTS_OF_CHANNEL[channel])
    shown_text = " ".join(getattr(shown, field) for field in PARTS_OF_CHANNEL[channel])
    assert "Metformin" not in hidden_text
    assert "Metformin" in shown_text


@pytest.mark.parametrize("channel", ["in_app", "email"])
@pytest.mark.parametrize("event", MEDICATION_EVENTS)
def test_in_app_and_email_name_the_medication(event: str, channel: str) -> None:
    message = render(event, channel)

    if channel == "in_app":
        assert "Metformin" in f"{message.title} {message.content}"
    else:
        assert "Metformin" in message.text
        assert "Metformin" in message.html


def test_hidden_medication_details_are_not_even_in_the_template_context() -> None:
    context = message_context(
        notification("medication_reminder"), person(), channel="sms", show_medication_name=False
    )

    assert not {"medication_name", "dosage", "instructions"} & context.keys()
    assert context["show_medication_name"] is False


def test_an_events_stored_english_copy_is_kept_out_of_the_context() -> None:
    context = message_context(
        notification("low_stock", title="Metformin is running low"),
        person(),
        channel="push",
        show_medication_name=False,
    )

    assert "title" not in context
    assert "content" not in context


# --- Escaping -----------------------------------------------------------------------------------

HOSTILE_CONTENT = "<script>alert(1)</script> O'Brien & Sons"


def test_email_html_escapes_what_people_typed() -> None:
    message = render("custom", "email", title="Hello <b>", content=HOSTILE_CONTENT)

    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; O&#x27;Brien &amp; Sons" in message.html
    assert "<title>Hello &lt;b&gt;</title>" in message.html


def test_email_html_escapes_medication_names_and_instructions() -> None:
    context = {
        **CONTEXTS["medication_reminder"],
        "medication_name": "<img src=x>",
        "instructions": "Take with <i>food</i> & water",
    }

    message = render("medication_reminder", "email", context=context)

    assert "<img" not in message.html
    assert "&lt;img src=x&gt;" in message.html
    assert "Take with &lt;i&gt;food&lt;/i&gt; &amp; water" in message.html


@pytest.mark.parametrize("channel", ["in_app", "email", "sms", "push"])
def test_text_parts_are_not_html_escaped(channel: str) -> None:
    message = render("custom", channel, title="O'Brien & Sons", content=HOSTILE_CONTENT)

    text_fields = [field for field in PARTS_OF_CHANNEL[channel] if field != "html"]
    for field in text_fields:
        value = getattr(message, field)
        assert "&amp;" not in value
        assert "&#x27;" not in value
        assert "&lt;" not in value
        assert "O'Brien & Sons" in value


def test_afrikaans_apostrophes_survive_in_sms() -> None:
    message = render("missed_dose", "push", language="af")

    assert message.push_title == "Thandi het dalk 'n dosis gemis"


# --- Email layout and digest ------------------------------------------------------------------


def test_email_has_a_greeting_a_link_to_the_notification_and_to_the_preferences() -> None:
    message = render("test", "email")
    base = settings.SITE_BASE_URL

    assert message.subject == "MedGuard test notification"
    assert message.text == (
        "MedGuard test notification\n\n"
        "Hello Anna,\n\n"
        "If you can read this, notifications reach you on this channel.\n\n"
        f"Open in MedGuard: {base}/notifications/42/\n\n"
        "--\n"
        f"Manage your notification preferences: {base}/notifications/preferences/"
    )
    assert f'href="{base}/notifications/preferences/"' in message.html
    assert "Manage your notification preferences" in message.html
    assert f'href="{base}/notifications/42/"' in message.html
    assert '<html lang="en">' in message.html


def test_afrikaans_email_layout_is_in_afrikaans() -> None:
    message = render("test", "email", language="af")

    assert message.text.startswith("MedGuard-toetskennisgewing\n\nHallo Anna,")
    assert "Bestuur jou kennisgewingvoorkeure" in message.html
    assert '<html lang="af">' in message.html


def test_email_subject_falls_back_to_the_title_and_is_one_line() -> None:
    message = render("custom", "email", title="  Pharmacy\nclosed  ")

    assert message.subject == "Pharmacy closed"


def test_a_user_without_a_first_name_is_greeted_by_username() -> None:
    message = render_message(
        notification("test"),
        person(first_name="", username="thandi82"),
        channel="email",
        show_medication_name=True,
        overrides=NO_OVERRIDES,
    )

    assert "\n\nHello thandi82,\n\n" in message.text


def test_digest_lists_every_notification_in_one_email() -> None:
    notifications = [
        notification(
            "medication_reminder",
            pk=1,
            created_at=datetime.datetime(2026, 11, 28, 6, 0, tzinfo=datetime.UTC),
        ),
        notification(
            "low_stock", pk=2, created_at=datetime.datetime(2026, 11, 28, 7, 0, tzinfo=datetime.UTC)
        ),
        notification(
            "custom",
            pk=3,
            title="Closed <Friday>",
            created_at=datetime.datetime(2026, 11, 28, 8, 0, tzinfo=datetime.UTC),
        ),
    ]

    message = render_digest(
        notifications, person(), overrides=NO_OVERRIDES, show_medication_name=True
    )

    assert message.subject == "Your MedGuard summary: 3 notifications"
    assert "Time to take Metformin 500 mg (28 November 2026 08:00)" in message.text
    assert "Metformin 500 mg is running low" in message.text
    assert "Closed <Friday>" in message.text
    assert f"{settings.SITE_BASE_URL}/notifications/2/" in message.text
    assert "Closed &lt;Friday&gt;" in message.html
    assert message.title == message.sms == message.push_body == ""


def test_a_digest_names_no_medication_unless_the_user_chose_so() -> None:
    reminder = notification("medication_reminder", pk=1)

    message = render_digest([reminder], person(), overrides=NO_OVERRIDES)

    assert "Metformin" not in message.subject + message.text + message.html
    assert "Time to take your medication" in message.text


@pytest.mark.parametrize(
    ("count", "language", "subject"),
    [
        (1, "en", "Your MedGuard summary: 1 notification"),
        (2, "af", "Jou MedGuard-opsomming: 2 kennisgewings"),
        (1, "af", "Jou MedGuard-opsomming: 1 kennisgewing"),
    ],
)
def test_digest_subject_counts_with_the_languages_plural(
    count: int, language: str, subject: str
) -> None:
    notifications = [notification("test", pk=index + 1) for index in range(count)]

    message = render_digest(notifications, person(language), overrides=NO_OVERRIDES)

    assert message.subject == subject


# --- Admin overrides ----------------------------------------------------------------------------


@pytest.fixture
def afrikaans_user(db: None) -> User:
    return get_user_model().objects.create_user(
        username="marietjie", first_name="Marietjie", preferred_language="af", timezone=JOHANNESBURG
    )


def test_an_active_override_wins_over_the_template_file(afrikaans_user: User) -> None:
    NotificationTemplate.objects.create(
        event="medication_reminder",
        language="af",
        part=TemplatePart.TITLE,
        body="Medisyne-tyd: {{ medication_name }}",
    )

    title, _ = render_in_app(notification("medication_reminder"), afrikaans_user)

    assert title == "Medisyne-tyd: Metformin 500 mg"


def test_an_inactive_override_is_ignored(afrikaans_user: User) -> None:
    NotificationTemplate.objects.create(
        event="medication_reminder",
        language="af",
        part=TemplatePart.TITLE,
        body="Medisyne-tyd: {{ medication_name }}",
        active=False,
    )

    title, _ = render_in_app(notification("medication_reminder"), afrikaans_user)

    assert title == "Tyd om Metformin 500 mg te neem"


def test_an_override_in_another_language_is_ignored(afrikaans_user: User) -> None:
    NotificationTemplate.objects.create(
        event="medication_reminder", language="en", part=TemplatePart.TITLE, body="Pill time"
    )

    title, _ = render_in_app(notification("medication_reminder"), afrikaans_user)

    assert title == "Tyd om Metformin 500 mg te neem"


def test_an_override_of_the_title_is_the_email_subject_when_there_is_no_subject_file(
    db: None,
) -> None:
    NotificationTemplate.objects.create(
        event="test", language="en", part=TemplatePart.TITLE, body="Channel check"
    )
    overrides = TemplateOverrides.load(["test"])

    message = render_message(
        notification("test"),
        person(),
        channel="email",
        show_medication_name=True,
        overrides=overrides,
    )

    assert message.subject == "Channel check"


def test_an_html_override_is_escaped_and_a_text_override_is_not(db: None) -> None:
    NotificationTemplate.objects.create(
        event="custom",
        language="en",
        part=TemplatePart.EMAIL_HTML,
        body='{% extends "notifications/email_base.html" %}{% block content %}'
        "<p>{{ content }}</p>{% endblock %}",
    )
    NotificationTemplate.objects.create(
        event="custom", language="en", part=TemplatePart.SMS, body="MG: {{ content }}"
    )
    overrides = TemplateOverrides.load(["custom"])
    item = notification("custom", content="O'Brien & Sons")

    email = render_message(
        item, person(), channel="email", show_medication_name=True, overrides=overrides
    )
    sms = render_message(
        item, person(), channel="sms", show_medication_name=True, overrides=overrides
    )

    assert "<p>O&#x27;Brien &amp; Sons</p>" in email.html
    assert sms.sms == "MG: O'Brien & Sons"


def test_an_override_that_does_not_compile_falls_back_to_the_file(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    NotificationTemplate.objects.create(
        event="test", language="en", part=TemplatePart.TITLE, body="{% if %}broken"
    )

    title, _ = render_in_app(notification("test"), person(), TemplateOverrides.load(["test"]))

    assert title == "MedGuard test notification"
    assert "does not compile" in caplog.text


def test_loading_overrides_takes_one_query_and_using_them_none(
    db: None, django_assert_num_queries: Any
) -> None:
    for event in ("test", "low_stock", "custom"):
        NotificationTemplate.objects.create(
            event=event, language="en", part=TemplatePart.TITLE, body=f"{event} override"
        )

    with django_assert_num_queries(1):
        overrides = TemplateOverrides.load(["test", "low_stock", "expiry_warning"])
    with django_assert_num_queries(0):
        assert overrides.get("test", "en", TemplatePart.TITLE) is not None
        assert overrides.get("low_stock", "en", "title.txt") is not None
        assert overrides.get("custom", "en", "title.txt") is None
        assert overrides.get("test", "af", "title.txt") is None
        render_in_app(notification("low_stock"), person(), overrides)


def test_empty_overrides_take_no_query(db: None, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        render_in_app(notification("test"), person(), TemplateOverrides.empty())


def test_rendering_without_overrides_loads_them_in_one_query(
    db: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        render_in_app(notification("low_stock"), person())
    with django_assert_num_queries(1):
        render_digest([notification("low_stock"), notification("test", pk=7)], person())


# --- Context ------------------------------------------------------------------------------------


def test_context_restores_types_and_adds_links_and_recipient() -> None:
    item = notification("low_stock", priority="high", require_acknowledgment=True)

    context = message_context(item, person(), channel="email", show_medication_name=True)

    assert context["run_out_date"] == datetime.date(2026, 11, 28)
    assert context["days_of_supply"] == 5
    assert context["quantity_on_hand"] == 10
    assert context["recipient_name"] == "Anna"
    assert context["priority"] == "high"
    assert context["require_acknowledgment"] is True
    assert context["notification_url"] == f"{settings.SITE_BASE_URL}/notifications/42/"
    assert context["preferences_url"] == f"{settings.SITE_BASE_URL}/notifications/preferences/"
    assert context["site_base_url"] == settings.SITE_BASE_URL


def test_context_reads_dose_time_as_an_aware_datetime() -> None:
    context = message_context(
        notification("medication_reminder"), person(), channel="in_app", show_medication_name=True
    )

    assert context["dose_time"] == datetime.datetime(2026, 11, 28, 11, 30, tzinfo=datetime.UTC)


def test_an_unreadable_dose_time_is_left_out_rather_than_printed() -> None:
    context = {**CONTEXTS["medication_reminder"], "dose_time": "half past eight"}

    message = render("medication_reminder", "in_app", context=context)

    assert message.content == "Take 1 tablet now. Take with food."


def test_custom_notification_context_carries_its_own_title_and_content() -> None:
    context = message_context(
        notification("custom"), person(), channel="in_app", show_medication_name=False
    )

    assert context["title"] == "Pharmacy closed on Friday"
    assert context["content"] == "Collect your medication on Thursday."


def test_an_unknown_event_is_shown_as_its_stored_text() -> None:
    message = render("teleport", "in_app", context={}, title="Stored title", content="Stored")

    assert (message.title, message.content) == ("Stored title", "Stored")


def test_custom_in_app_content_keeps_the_authors_paragraphs() -> None:
    message = render("custom", "in_app", content="First line\nSecond line\n\nNew paragraph")

    assert message.content == "First line\nSecond line\n\nNew paragraph"


# --- English copy for the admin -----------------------------------------------------------------


def test_english_copy_renders_the_event_in_english_whatever_the_active_language() -> None:
    with translation.override("af"):
        copy = english_copy("medication_reminder", CONTEXTS["medication_reminder"])

    assert copy == ("Time to take Metformin 500 mg", "1 tablet at 13:30. Take with food.")


def test_english_copy_of_a_custom_notification_is_what_was_written() -> None:
    copy = english_copy("custom", {}, title="Pharmacy closed", content="Back on Monday.")

    assert copy == ("Pharmacy closed", "Back on Monday.")


def test_english_copy_names_the_medication() -> None:
    title, content = english_copy("expiry_warning", CONTEXTS["expiry_warning"])

    assert title == "Metformin 500 mg expires in 14 days"
    assert content.startswith("Metformin 500 mg expires on 28 November 2026, in 14 days.")


# --- SMS: GSM-7 and one segment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ê ë ï ô û î â", "e e i o u i a"),
        ("Ê Ë Ï Ô Û", "E E I O U"),
        ("\u201cquoted\u201d \u2018single\u2019", "\"quoted\" 'single'"),
        ("en\u2013dash em\u2014dash", "en-dash em-dash"),
        ("wait…", "wait..."),
        ("ŉ dosis", "'n dosis"),
        ("non\xa0breaking", "non breaking"),
        ("Levothyroxine 50 µg", "Levothyroxine 50 mcg"),
        ("ç á í ó ú", "c a i o u"),
    ],
)
def test_gsm7_transliterates_look_alikes(text: str, expected: str) -> None:
    assert gsm7(text) == expected


def test_gsm7_keeps_characters_that_are_in_the_gsm_alphabet() -> None:
    kept = "é è à ù ì ò ä ö ü ñ Ä Ö Ü Ñ Å å Ø ø Æ æ ß É Ç £ ¥ § ¿ ¡ € { } [ ] ~ | ^ \\ @ $ _"

    assert gsm7(kept) == kept


def test_gsm7_keeps_what_has_no_close_equivalent() -> None:
    assert gsm7("Pills 💊 ready") == "Pills 💊 ready"


@pytest.mark.parametrize("show_medication_name", [True, False])
@pytest.mark.parametrize("language", ["en", "af"])
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_sms_is_one_gsm7_segment(
    event: str, language: str, show_medication_name: bool
) -> None:
    sms = render(event, "sms", language=language, show_medication_name=show_medication_name).sms

    assert set(sms) <= GSM7_BASIC | GSM7_EXTENSION
    assert len(sms) <= 160


def test_custom_sms_is_the_title_then_the_content_cut_to_one_segment() -> None:
    content = "Our pharmacy moves to 12 Long Street. " * 10

    sms = render("custom", "sms", title="We\u2019re moving", content=content).sms

    assert sms.startswith("MedGuard: We're moving - Our pharmacy moves to 12 Long Street.")
    assert sms.endswith("...")
    assert len(sms) <= 160


def test_a_short_custom_sms_is_sent_whole() -> None:
    sms = render("custom", "sms", title="Pharmacy closed", content="Back on Monday.").sms

    assert sms == "MedGuard: Pharmacy closed - Back on Monday."


def test_sms_with_characters_outside_gsm7_fits_one_ucs2_segment() -> None:
    sms = fit_single_sms("💊 " + "take your medication " * 10)

    assert len(sms.encode("utf-16-le")) // 2 <= 70
    assert sms.endswith("...")


def test_sms_extension_characters_count_twice() -> None:
    assert fit_single_sms("{" * 200) == "{" * 78 + "..."


def test_custom_push_body_is_cut_to_about_180_characters() -> None:
    message = render("custom", "push", content="word " * 100)

    assert len(message.push_body) <= 180
    assert message.push_body.endswith("…")


# --- The Afrikaans catalogue ----------------------------------------------------------------------

AF_PO = Path(settings.BASE_DIR) / "locale" / "af" / "LC_MESSAGES" / "django.po"
AF_MO = AF_PO.with_suffix(".mo")
# CI installs GNU gettext (.ci/run), so there the catalogue checks always run; a
# developer's machine without msgfmt skips these two, saying why.
needs_msgfmt = pytest.mark.skipif(
    shutil.which("msgfmt") is None and not os.environ.get("CI"), reason="needs GNU msgfmt"
)


@needs_msgfmt
def test_afrikaans_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(AF_PO)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "translated message" in result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@needs_msgfmt
def test_committed_afrikaans_mo_file_matches_the_po_file(tmp_path: Path) -> None:
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(AF_PO)], check=True)

    with AF_MO.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "content"),
    [
        ("Clinic closed", "The clinic is closed on Friday."),
        ("  Two\n lines ", "First paragraph.\n\n\nSecond   one.\nSame paragraph."),
        ("O'Brien & <Sons>", "<script>alert(1)</script>"),
    ],
)
def test_free_text_in_app_fast_path_matches_the_template_rendering(title, content) -> None:
    user = User.objects.create_user("reader", preferred_language="af")
    notification = Notification.objects.create(
        title=title, content=content, event="custom", notification_type="general"
    )

    fast = render_in_app(notification, user, NO_OVERRIDES)
    templated = render_message(
        notification, user, channel="in_app", show_medication_name=True, overrides=NO_OVERRIDES
    )

    assert fast == (templated.title, templated.content)


@pytest.mark.django_db
def test_an_override_of_the_free_text_title_still_applies_in_the_app() -> None:
    user = User.objects.create_user("reader")
    notification = Notification.objects.create(
        title="Clinic closed", content="Friday", event="custom", notification_type="general"
    )
    NotificationTemplate.objects.create(
        event="custom", language="en", part="title.txt", body="MedGuard: {{ title }}"
    )

    title, content = render_in_app(notification, user)

    assert (title, content) == ("MedGuard: Clinic closed", "Friday")
