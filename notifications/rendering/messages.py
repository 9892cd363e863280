"""The words one recipient reads: a notification rendered for one channel.

Templates are found by convention at ``notifications/<event>/<part>`` (as django-allauth's
``render_mail`` finds ``subject.txt``/``email.txt``/``email.html``); an active
``NotificationTemplate`` row edited in the admin wins over the file. Everything is rendered
inside the recipient's language and time zone (as Zulip renders push notifications in the
worker), so the same dose reads "08:00" in Johannesburg and "06:00" in London, in English or
Afrikaans, with South African date formats (``medguard_backend.formats``).

The event's facts are read back into their types by ``event_facts``; the admin's edits and
the two template engines (text parts unescaped, ``email.html`` autoescaped) live in
``template_overrides``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template import Context, TemplateDoesNotExist
from django.template.base import Template
from django.utils import timezone, translation

from notifications.events import EVENTS
from notifications.models import Channel, Notification, TemplatePart
from notifications.rendering.facts import event_context
from notifications.rendering.overrides import TemplateOverrides, is_html, template_engine
from notifications.rendering.sms_text import fit_single_sms, gsm7

if TYPE_CHECKING:
    from collections.abc import Iterator
    from zoneinfo import ZoneInfo

    from accounts.models import User

logger = logging.getLogger(__name__)

__all__ = [
    "BatchRenderings",
    "RenderedMessage",
    "TemplateOverrides",
    "english_copy",
    "language_of",
    "message_context",
    "render_digest",
    "render_in_app",
    "render_message",
]

CUSTOM_EVENT = "custom"
DIGEST_EVENT = "email_digest"
EMAIL_TEXT_LAYOUT = "notifications/email_base.txt"

# The parts each channel needs; nothing else is rendered for it.
CHANNEL_PARTS: dict[str, tuple[TemplatePart, ...]] = {
    Channel.IN_APP: (TemplatePart.TITLE, TemplatePart.CONTENT),
    Channel.EMAIL: (TemplatePart.EMAIL_SUBJECT, TemplatePart.EMAIL_TEXT, TemplatePart.EMAIL_HTML),
    Channel.SMS: (TemplatePart.SMS,),
    Channel.PUSH: (TemplatePart.PUSH_TITLE, TemplatePart.PUSH_BODY),
}

# An event may leave these files out; the part is then rendered from the other one.
FALLBACK_PART: dict[TemplatePart, TemplatePart] = {
    TemplatePart.EMAIL_SUBJECT: TemplatePart.TITLE,
    TemplatePart.EMAIL_TEXT: TemplatePart.CONTENT,
}


@dataclass(frozen=True)
class RenderedMessage:
    """One notification as one recipient reads it; only the channel's parts are filled."""

    title: str = ""  # in-app
    content: str = ""  # in-app
    subject: str = ""  # email subject (single line, stripped)
    text: str = ""  # email plain text
    html: str = ""  # email HTML
    sms: str = ""
    push_title: str = ""
    push_body: str = ""


_FIELD_OF_PART: dict[TemplatePart, str] = {
    TemplatePart.TITLE: "title",
    TemplatePart.CONTENT: "content",
    TemplatePart.EMAIL_SUBJECT: "subject",
    TemplatePart.EMAIL_TEXT: "text",
    TemplatePart.EMAIL_HTML: "html",
    TemplatePart.SMS: "sms",
    TemplatePart.PUSH_TITLE: "push_title",
    TemplatePart.PUSH_BODY: "push_body",
}


# --- Templates --------------------------------------------------------------------------------


def _template(
    event: str, language: str, part: TemplatePart, overrides: TemplateOverrides
) -> Template:
    """The override, else the file, for ``part``; then the same for its fallback part."""
    candidates = [part]
    if part in FALLBACK_PART:
        candidates.append(FALLBACK_PART[part])
    for candidate in candidates:
        override = overrides.get(event, language, candidate)
        if override is not None:
            return override
        try:
            return template_engine(autoescape=is_html(candidate)).get_template(
                f"notifications/{event}/{candidate}"
            )
        except TemplateDoesNotExist:
            continue
    raise TemplateDoesNotExist(f"notifications/{event}/{part}")


def _render(template: Template, context: Mapping[str, Any], *, html: bool) -> str:
    # A Context escapes by default whatever engine compiled the template; text parts must not.
    return template.render(Context(dict(context), autoescape=html))


# --- Tidying rendered text --------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")


def _one_line(text: str) -> str:
    """Titles, subjects, SMS and push: template line breaks are not the author's."""
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    """Content and plain-text email keep their paragraphs; the blank lines that template
    tags leave behind are squeezed to one."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# --- Context ----------------------------------------------------------------------------------


def _template_event(event: str) -> str:
    # An event this code does not know (a newer producer, a typo) is shown as free text:
    # its stored English title and content are better than no message at all.
    return event if event in EVENTS else CUSTOM_EVENT


def _site_urls() -> dict[str, str]:
    base = settings.SITE_BASE_URL.rstrip("/")
    return {
        "site_base_url": base,
        "notifications_url": f"{base}/notifications/",
        "preferences_url": f"{base}/notifications/preferences/",
    }


def _notification_url(notification: Notification) -> str:
    base = settings.SITE_BASE_URL.rstrip("/")
    if notification.pk is None:
        return f"{base}/notifications/"
    return f"{base}/notifications/{notification.pk}/"


def _recipient_name(user: User) -> str:
    return user.first_name or user.get_username()


def message_context(
    notification: Notification, user: User, *, channel: str, show_medication_name: bool
) -> dict[str, Any]:
    """Everything a template of ``notification`` may use, for ``user`` on ``channel``."""
    context = event_context(notification.context, show_medication_name=show_medication_name)
    if _template_event(notification.event) == CUSTOM_EVENT:
        # Only free text is shown as written. An event's stored title is an English copy
        # that names the medication, so it stays out of the context of SMS and push.
        context["title"] = notification.title
        context["content"] = notification.content
    context.update(_site_urls())
    context.update(
        recipient_name=_recipient_name(user),
        priority=notification.priority,
        notification_type=notification.notification_type,
        require_acknowledgment=notification.require_acknowledgment,
        notification_url=_notification_url(notification),
        show_medication_name=show_medication_name,
        channel=str(channel),
    )
    return context


# --- Rendering --------------------------------------------------------------------------------


def language_of(user: User) -> str:
    language = user.preferred_language or settings.LANGUAGE_CODE
    # A language without a catalogue would fall back to English text with no English
    # overrides applied; say English outright.
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextmanager
def _recipient_locale(language: str, zone: ZoneInfo | str | None) -> Iterator[None]:
    with translation.override(language), timezone.override(zone):
        yield


def _render_email(
    event: str, language: str, context: Mapping[str, Any], overrides: TemplateOverrides
) -> dict[str, str]:
    def text_part(part: TemplatePart) -> str:
        return _render(_template(event, language, part, overrides), context, html=False)

    subject = _one_line(text_part(TemplatePart.EMAIL_SUBJECT))
    body = _paragraphs(text_part(TemplatePart.EMAIL_TEXT))
    # The plain-text email gets the same heading, greeting and footer as the HTML one,
    # whether its body came from email.txt, content.txt or an admin override.
    layout = template_engine(autoescape=False).get_template(EMAIL_TEXT_LAYOUT)
    text = _paragraphs(
        _render(layout, {**context, "email_subject": subject, "message_body": body}, html=False)
    )
    html = _render(
        _template(event, language, TemplatePart.EMAIL_HTML, overrides),
        {**context, "email_subject": subject},
        html=True,
    ).strip()
    return {"subject": subject, "text": text, "html": html}


def _render_part(
    event: str,
    language: str,
    part: TemplatePart,
    context: Mapping[str, Any],
    overrides: TemplateOverrides,
) -> str:
    rendered = _render(_template(event, language, part, overrides), context, html=False)
    if part == TemplatePart.CONTENT:
        return _paragraphs(rendered)
    if part == TemplatePart.SMS:
        return fit_single_sms(gsm7(_one_line(rendered)))
    return _one_line(rendered)


def render_message(
    notification: Notification,
    user: User,
    *,
    channel: str,
    show_medication_name: bool,
    overrides: TemplateOverrides | None = None,
) -> RenderedMessage:
    """``notification`` as ``user`` reads it on ``channel``, in their language and time zone.

    Without ``overrides`` this event's admin overrides are loaded (one query); a worker
    rendering many notifications loads them once with ``TemplateOverrides.load``.
    """
    parts = CHANNEL_PARTS[Channel(channel)]
    event = _template_event(notification.event)
    if overrides is None:
        overrides = TemplateOverrides.load([event])
    context = message_context(
        notification, user, channel=channel, show_medication_name=show_medication_name
    )
    language = language_of(user)
    fields: dict[str, str] = {}
    with _recipient_locale(language, user.timezone):
        if channel == Channel.EMAIL:
            fields.update(_render_email(event, language, context, overrides))
        else:
            for part in parts:
                fields[_FIELD_OF_PART[part]] = _render_part(
                    event, language, part, context, overrides
                )
    return RenderedMessage(**fields)


# Whether a template may show the reader's name: ``recipient_name`` is the only context
# entry that differs between readers sharing a language and time zone. A template that
# extends another, includes one by a variable, or loads a tag library that might read the
# context, is taken to show it; one included by name is read in turn.
_SHOWS_NAME = re.compile(r"recipient_name|{%\s*extends\b|{%\s*include\s+(?![\"'])")
_INCLUDES = re.compile(r"{%\s*include\s+[\"']([^\"']+)[\"']")
_LOADS = re.compile(r"{%\s*load\s+([^%]*?)\s*%}")
# Django's own libraries, whose tags read only the variables the template names.
_PLAIN_LIBRARIES = frozenset({"i18n", "l10n", "tz"})


def _may_show_name(source: str | None, engine: Any, seen: set[str]) -> bool:
    if source is None or _SHOWS_NAME.search(source):
        return True
    if any(not set(names.split()) <= _PLAIN_LIBRARIES for names in _LOADS.findall(source)):
        return True
    for name in _INCLUDES.findall(source):
        if name not in seen:
            seen.add(name)
            try:
                included = engine.get_template(name)
            except TemplateDoesNotExist:
                return True
            if _may_show_name(getattr(included, "source", None), engine, seen):
                return True
    return False


class BatchRenderings:
    """Renders a batch's SMS and push messages, each distinct message once.

    A notice sent to thousands renders the same text for every reader who shares its
    language, time zone and medication-name choice (its SMS and push templates do not
    greet by name): this keeps the first rendering and hands it to the others. The key is
    everything the text depends on: the notification, the channel, language, time zone,
    whether the medication may be named, and the reader's name when a template may show
    it. Kept for one batch only, so an admin's edit is never served stale. Measured on
    ``bench channels``' 500 pushes of one notice (CPU, 2026-11-30, load ~2.5): 25.5 ms to
    render them one by one, 1.1 ms this way; 500 SMS one by one 20.7 ms.
    """

    def __init__(self, overrides: TemplateOverrides) -> None:
        self.overrides = overrides
        self._rendered: dict[tuple[object, ...], RenderedMessage] = {}
        self._reads_name: dict[tuple[str, str, str], bool] = {}

    def render(
        self, notification: Notification, user: User, *, channel: str, show_medication_name: bool
    ) -> RenderedMessage:
        if channel not in (Channel.SMS, Channel.PUSH) or notification.pk is None:
            return render_message(
                notification,
                user,
                channel=channel,
                show_medication_name=show_medication_name,
                overrides=self.overrides,
            )
        language = language_of(user)
        key = (
            notification.pk,
            str(channel),
            language,
            str(user.timezone),
            show_medication_name,
            _recipient_name(user) if self._name_shown(notification, language, channel) else None,
        )
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = render_message(
                notification,
                user,
                channel=channel,
                show_medication_name=show_medication_name,
                overrides=self.overrides,
            )
        return rendered

    def _name_shown(self, notification: Notification, language: str, channel: str) -> bool:
        event = _template_event(notification.event)
        key = (event, language, str(channel))
        if key not in self._reads_name:
            engine = template_engine(autoescape=False)  # SMS and push are text parts
            self._reads_name[key] = any(
                _may_show_name(
                    getattr(_template(event, language, part, self.overrides), "source", None),
                    engine,
                    set(),
                )
                for part in CHANNEL_PARTS[Channel(channel)]
            )
        return self._reads_name[key]


def render_in_app(
    notification: Notification,
    user: User,
    overrides: TemplateOverrides | None = None,
    *,
    show_medication_name: bool = True,
) -> tuple[str, str]:
    """The (title, content) ``user`` sees in the app, in their language; without the
    medication's name for a copy that leaves the app (an email digest's items)."""
    if notification.event == CUSTOM_EVENT:
        overrides = overrides if overrides is not None else TemplateOverrides.load([CUSTOM_EVENT])
        language = language_of(user)
        if not any(
            overrides.get(CUSTOM_EVENT, language, part)
            for part in (TemplatePart.TITLE, TemplatePart.CONTENT)
        ):
            # Free text is shown as written: skip the template engine (half the cost of an
            # inbox page) and apply what the file templates would, the tidying alone.
            return _one_line(notification.title), _paragraphs(notification.content)
    message = render_message(
        notification,
        user,
        channel=Channel.IN_APP,
        show_medication_name=show_medication_name,
        overrides=overrides,
    )
    return message.title, message.content


def render_digest(
    notifications: Sequence[Notification],
    user: User,
    overrides: TemplateOverrides | None = None,
    *,
    show_medication_name: bool = False,
) -> RenderedMessage:
    """One email (subject, text, html) listing several notifications, oldest first as given.
    Its items name medications only if the user chose so (``may_name_medication``), as any
    email does: without being told, it says "your medication"."""
    if overrides is None:
        overrides = TemplateOverrides.load(
            {DIGEST_EVENT} | {_template_event(notification.event) for notification in notifications}
        )
    items = []
    for notification in notifications:
        title, content = render_in_app(
            notification, user, overrides, show_medication_name=show_medication_name
        )
        items.append(
            {
                "title": title,
                "content": content,
                "created_at": notification.created_at,
                "url": _notification_url(notification),
            }
        )
    urls = _site_urls()
    context: dict[str, Any] = {
        **urls,
        "recipient_name": _recipient_name(user),
        "notification_url": urls["notifications_url"],
        "items": items,
        "count": len(items),
        "show_medication_name": show_medication_name,
        "channel": str(Channel.EMAIL),
    }
    language = language_of(user)
    with _recipient_locale(language, user.timezone):
        fields = _render_email(DIGEST_EVENT, language, context, overrides)
    return RenderedMessage(**fields)


def english_copy(
    event: str, context: Mapping[str, Any], *, title: str = "", content: str = ""
) -> tuple[str, str]:
    """The English (title, content) stored on a Notification so the admin can read it.

    Free text (``custom``, or an event this code does not know) is stored as written.
    Rendered from the template files only: the admin's overrides are for recipients, and
    a write path should not pay a query for a label.
    """
    if _template_event(event) == CUSTOM_EVENT:
        return title, content
    values = event_context(context, show_medication_name=True)
    values.update(_site_urls())
    values.update(
        recipient_name="",
        notification_url=_site_urls()["notifications_url"],
        show_medication_name=True,
        channel=str(Channel.IN_APP),
    )
    overrides = TemplateOverrides.empty()
    with _recipient_locale("en", timezone.get_default_timezone()):
        return (
            _render_part(event, "en", TemplatePart.TITLE, values, overrides),
            _render_part(event, "en", TemplatePart.CONTENT, values, overrides),
        )
