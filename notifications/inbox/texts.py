"""The in-app text of notifications as each reader sees them, kept per process.

Rendering one notification in its reader's language (template engine, translations,
dates in their zone) costs about a quarter of a millisecond, and an inbox page has up to a
hundred of them; yet the same notifications are read again and again (the app polls the
first page, a system notice goes to thousands who read the same language). So each
rendering is kept in a bounded LRU per process, keyed by everything it depends on:

- the notification's stored copy and flags: its facts (``event``, ``context``) never change
  once sent (read-only in the admin), and the fields an admin may still edit are in the key;
- the reader's language, time zone and first name;
- the admin's template overrides, by fingerprint, so an edit is a new key, not a stale text.

The overrides themselves are loaded once per process and kept for
``OVERRIDES_MAX_AGE_SECONDS``; saving or deleting a ``NotificationTemplate`` forgets them at
once in the process that did it (the admin's), and other processes see the edit within that
age. That bounds what an edit can cost to one query per process per interval instead of one
per page.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache, TTLCache

from notifications.inbox.page import PageNotification
from notifications.models import Notification
from notifications.rendering.messages import TemplateOverrides, language_of, render_in_app

if TYPE_CHECKING:
    from accounts.models import User

OVERRIDES_MAX_AGE_SECONDS = 10
# About a kilobyte each: ~20 MB per process at most.
TEXTS_KEPT = 20_000

_lock = threading.Lock()  # runserver and the threaded test server share these across threads
_overrides: TTLCache[str, TemplateOverrides] = TTLCache(maxsize=1, ttl=OVERRIDES_MAX_AGE_SECONDS)
_texts: LRUCache[Hashable, tuple[str, str]] = LRUCache(maxsize=TEXTS_KEPT)


def current_overrides() -> TemplateOverrides:
    """Every active override, at most ``OVERRIDES_MAX_AGE_SECONDS`` old (one query when not)."""
    with _lock:
        overrides = _overrides.get("all")
    if overrides is None:
        overrides = TemplateOverrides.load()
        with _lock:
            _overrides["all"] = overrides
    return overrides


def forget(**_: Any) -> None:
    """Drop what this process keeps (a template was edited here; tests start clean)."""
    with _lock:
        _overrides.clear()
        _texts.clear()


def _reader_key(user: User, overrides: TemplateOverrides) -> tuple[object, ...]:
    """What a text depends on besides the notification: the same for a whole page."""
    return (
        language_of(user),
        str(user.timezone),
        user.first_name or user.get_username(),
        overrides.fingerprint,
    )


def _key(notification: Notification | PageNotification, reader: tuple[object, ...]) -> Hashable:
    # A page's copy is keyed by its stored (encrypted) title and content: an edit in the
    # admin writes new tokens, so a new key, and a hit needs no decryption.
    if isinstance(notification, PageNotification):
        title, content = notification.stored_title, notification.stored_content
    else:
        title, content = notification.title, notification.content
    return (
        notification.pk,
        notification.event,
        title,
        content,
        notification.priority,
        notification.notification_type,
        notification.require_acknowledgment,
        *reader,
    )


def in_app_texts(
    notifications: Sequence[Notification | PageNotification], user: User
) -> list[tuple[str, str]]:
    """The (title, content) ``user`` sees for each of ``notifications`` (models, or a
    page's lighter copies, rendered from a model built only when not kept), in order."""
    overrides = current_overrides()
    reader = _reader_key(user, overrides)
    texts = []
    for notification in notifications:
        key = _key(notification, reader)
        with _lock:
            text = _texts.get(key)
        if text is None:
            model = (
                notification.to_model()
                if isinstance(notification, PageNotification)
                else notification
            )
            text = render_in_app(model, user, overrides)
            with _lock:
                _texts[key] = text
        texts.append(text)
    return texts
