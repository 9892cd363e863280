"""Admin template overrides, the rendering context and the English copy the admin sees."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

from accounts.models import User
from notifications.models import NotificationTemplate, TemplatePart
from notifications.rendering.messages import (
    TemplateOverrides,
    english_copy,
    message_context,
    render_digest,
    render_in_app,
    render_message,
)
from notifications.tests.rendering_cases import (
    CONTEXTS,
    JOHANNESBURG,
    notification,
    person,
    render,
)

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
