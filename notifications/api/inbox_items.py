"""A page of a user's inbox as they read it: each notification rendered in their language.

Shared by the API and the web pages. Rendering a page costs one query for the admin's
template overrides of the events on it, whatever its length (never one per item).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifications.models import NotificationRecipient
from notifications.rendering import TemplateOverrides, render_in_app

if TYPE_CHECKING:
    from accounts.models import User

# Events this code does not know are rendered with the free-text ("custom") templates.
FREE_TEXT_EVENT = "custom"


@dataclass(frozen=True)
class InboxItem:
    recipient: NotificationRecipient
    title: str
    content: str


def render_items(recipients: Iterable[NotificationRecipient], user: User) -> list[InboxItem]:
    rows = list(recipients)
    if not rows:
        return []
    overrides = TemplateOverrides.load({FREE_TEXT_EVENT} | {row.notification.event for row in rows})
    items = []
    for row in rows:
        title, content = render_in_app(row.notification, user, overrides)
        items.append(InboxItem(row, title, content))
    return items
