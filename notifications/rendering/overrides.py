"""Templates edited in the admin (``NotificationTemplate`` rows), and the two engines that
compile notification templates.

Two engines share the project's template directories: text parts (in-app, subject,
plain-text email, SMS, push) are compiled without HTML escaping, because an apostrophe in
an SMS must stay an apostrophe; ``email.html`` with autoescaping, because titles, content,
medication names and instructions are typed by people.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from typing import cast

from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.backends.django import DjangoTemplates
from django.template.base import Template
from django.template.engine import Engine

from notifications.models import NotificationTemplate, TemplatePart

logger = logging.getLogger(__name__)


@functools.cache
def template_engine(*, autoescape: bool) -> Engine:
    """An engine with the project's template directories and loaders (so a project-level
    ``templates/notifications/...`` file still overrides the app's), differing only in
    autoescaping."""
    project = cast(DjangoTemplates, engines["django"]).engine
    return Engine(
        dirs=project.dirs,
        loaders=project.loaders,
        libraries=project.libraries,
        debug=project.debug,
        string_if_invalid=project.string_if_invalid,
        file_charset=project.file_charset,
        autoescape=autoescape,
    )


def is_html(part: str) -> bool:
    return part == TemplatePart.EMAIL_HTML


class TemplateOverrides:
    """Active ``NotificationTemplate`` rows (admin-edited) for some events, loaded in ONE
    query; each is compiled the first time it is asked for."""

    def __init__(self, bodies: Mapping[tuple[str, str, str], str]) -> None:
        self._bodies = dict(bodies)
        self._compiled: dict[tuple[str, str, str], Template | None] = {}
        # Equal for equal sets of overrides: part of the key of every cached rendering.
        self.fingerprint = hash(frozenset(self._bodies.items()))

    @classmethod
    def load(cls, events: Iterable[str] | None = None) -> TemplateOverrides:
        """The overrides of ``events``, or of every event when ``None``."""
        rows = NotificationTemplate.objects.filter(active=True)
        if events is not None:
            rows = rows.filter(event__in=set(events))
        return cls(
            {
                (event, language, part): body
                for event, language, part, body in rows.values_list(
                    "event", "language", "part", "body"
                )
            }
        )

    @classmethod
    def empty(cls) -> TemplateOverrides:
        return cls({})

    def get(self, event: str, language: str, part: str) -> Template | None:
        key = (event, language, str(part))
        if key not in self._compiled:
            self._compiled[key] = self._compile(key)
        return self._compiled[key]

    def _compile(self, key: tuple[str, str, str]) -> Template | None:
        body = self._bodies.get(key)
        # An empty message is never what an editor meant: the file is used instead.
        if body is None or not body.strip():
            return None
        event, language, part = key
        try:
            return Template(
                body,
                engine=template_engine(autoescape=is_html(part)),
                name=f"NotificationTemplate {event}/{language}/{part}",
            )
        except (TemplateSyntaxError, TemplateDoesNotExist):
            # The admin form validates syntax, but a row can arrive by other ways (a
            # fixture, the shell, a template it extends being removed). A broken edit must
            # not stop reminders: the file is used and the row is reported.
            logger.warning(
                "notification template override %s/%s/%s does not compile; using the file",
                event,
                language,
                part,
                exc_info=True,
            )
            return None
