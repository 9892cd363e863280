"""A batch renders each distinct SMS and push text once, and never hands one reader's text
to another who would read something else."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from notifications.models import NotificationTemplate, TemplatePart
from notifications.rendering.messages import BatchRenderings, TemplateOverrides, render_message
from notifications.tests.rendering_cases import notification, person

LONDON = ZoneInfo("Europe/London")


@pytest.mark.django_db
def test_readers_sharing_language_and_zone_get_the_one_rendering_of_a_notice() -> None:
    renderings = BatchRenderings(TemplateOverrides.empty())
    notice = notification("medication_reminder")
    anna, ben = person(first_name="Anna"), person(username="ben", first_name="Ben")

    first = renderings.render(notice, anna, channel="sms", show_medication_name=False)
    second = renderings.render(notice, ben, channel="sms", show_medication_name=False)

    assert second is first
    assert first == render_message(notice, ben, channel="sms", show_medication_name=False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("other", "show_name"),
    [
        (person(language="af"), False),  # another language
        (person(zone=LONDON), False),  # the dose time in another zone
        (person(), True),  # the medication named
    ],
)
def test_what_the_text_depends_on_gives_a_rendering_of_its_own(other, show_name) -> None:
    renderings = BatchRenderings(TemplateOverrides.empty())
    notice = notification("medication_reminder")
    renderings.render(notice, person(), channel="push", show_medication_name=False)

    rendered = renderings.render(notice, other, channel="push", show_medication_name=show_name)

    assert rendered == render_message(notice, other, channel="push", show_medication_name=show_name)


@pytest.mark.django_db
def test_a_template_that_greets_by_name_is_rendered_for_each_reader() -> None:
    NotificationTemplate.objects.create(
        event="medication_reminder",
        language="en",
        part=TemplatePart.SMS,
        body="Hi {{ recipient_name }}, time for your medication.",
    )
    renderings = BatchRenderings(TemplateOverrides.load())
    notice = notification("medication_reminder")

    texts = [
        renderings.render(
            notice, person(first_name=name), channel="sms", show_medication_name=False
        )
        for name in ("Anna", "Ben")
    ]

    assert [t.sms for t in texts] == [
        "Hi Anna, time for your medication.",
        "Hi Ben, time for your medication.",
    ]
