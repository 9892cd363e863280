"""SMS in GSM-7 within one segment, and the Afrikaans catalogue."""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from notifications.events import EVENTS
from notifications.models import Notification, NotificationTemplate
from notifications.rendering.messages import (
    render_in_app,
    render_message,
)
from notifications.rendering.sms_text import GSM7_BASIC, GSM7_EXTENSION, fit_single_sms, gsm7
from notifications.tests.rendering_cases import (
    NO_OVERRIDES,
    render,
)

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
