"""What a message may show (no unchosen medication name, no HTML injection); email layout."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from notifications.rendering.messages import (
    message_context,
    render_digest,
    render_message,
)
from notifications.tests.rendering_cases import (
    CONTEXTS,
    MEDICATION_EVENTS,
    NO_OVERRIDES,
    PARTS_OF_CHANNEL,
    notification,
    person,
    render,
)

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

    message = render_digest(notifications, person(), overrides=NO_OVERRIDES)

    assert message.subject == "Your MedGuard summary: 3 notifications"
    assert "Time to take Metformin 500 mg (28 November 2026 08:00)" in message.text
    assert "Metformin 500 mg is running low" in message.text
    assert "Closed <Friday>" in message.text
    assert f"{settings.SITE_BASE_URL}/notifications/2/" in message.text
    assert "Closed &lt;Friday&gt;" in message.html
    assert message.title == message.sms == message.push_body == ""


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
