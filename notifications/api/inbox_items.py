"""A page of a user's inbox as they read it: each notification rendered in their language.

Shared by the API and the web pages. The texts come from ``notifications.inbox.texts``:
rendered once per process and reader's language, never a query per item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifications.inbox.page import PageRow
from notifications.inbox.texts import in_app_texts
from notifications.models import NotificationRecipient

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class InboxItem:
    # A model, or a page's lighter row with the same attributes (notifications.inbox.page).
    recipient: NotificationRecipient | PageRow
    title: str
    content: str


def render_items(
    recipients: Iterable[NotificationRecipient | PageRow], user: User
) -> list[InboxItem]:
    rows = list(recipients)
    texts = in_app_texts([row.notification for row in rows], user)
    return [
        InboxItem(row, title, content) for row, (title, content) in zip(rows, texts, strict=True)
    ]
