"""Many notifications, each to one user, written per batch: the path for reminders and alerts.

A morning slot reminds 100,000 patients of 100,000 different doses. Sending them one by one
through ``send_medication_reminder`` would cost a dozen queries each; here a batch of drafts
becomes its notifications, recipients and deliveries in a fixed number of statements.
Every draft carries an idempotency key, so a batch that runs twice writes nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from medguard_backend.row_inserts import RowInsert, insert_rows
from notifications.events import EVENTS
from notifications.models import Notification, NotificationType, Priority
from notifications.policy.addresses import sms_reachable
from notifications.policy.decision_cache import DecisionCache, UserContact
from notifications.policy.preferences import user_id_filter
from notifications.rendering.messages import english_copy
from notifications.sending.fanout import (
    USER_FIELDS,
    ChannelCounts,
    NotificationForUser,
    SendResult,
    record_batch,
    validate_channels,
)


@dataclass(frozen=True)
class NotificationDraft:
    """One notification for one user, not yet written."""

    user_id: int
    event: str
    notification_type: str
    priority: str
    idempotency_key: str
    context: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""  # for event "custom" only; other events render their own
    content: str = ""
    require_acknowledgment: bool = False


# Sets, not ``Choices.values``: that property rebuilds a list on every access, which shows
# when a slot validates 100,000 drafts.
NOTIFICATION_TYPES = frozenset(NotificationType.values)
PRIORITIES = frozenset(Priority.values)


def validate_draft(draft: NotificationDraft) -> None:
    if draft.event not in EVENTS:
        raise ValueError(f"unknown event {draft.event!r}")
    if draft.notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification_type {draft.notification_type!r}")
    if draft.priority not in PRIORITIES:
        raise ValueError(f"unknown priority {draft.priority!r}")
    if not draft.idempotency_key:
        raise ValueError("every draft needs an idempotency_key")


class EnglishCopies:
    """The English title and content stored on each notification, rendered once per
    distinct (event, context): patients on the same medicine at the same time share it."""

    def __init__(self) -> None:
        self.cache: dict[tuple[object, ...], tuple[str, str]] = {}

    def __call__(self, draft: NotificationDraft) -> tuple[str, str]:
        if draft.event == "custom":
            return draft.title, draft.content
        # Only the facts the event's templates use: a dose id in the context must not
        # make every reminder's copy distinct.
        facts = {key: draft.context.get(key) for key in EVENTS[draft.event].context_keys}
        key: tuple[object, ...] = (draft.event, *facts.values())
        try:
            copy = self.cache.get(key)
        except TypeError:  # an unhashable fact (a list): by its text instead
            key = (draft.event, *(repr(value) for value in facts.values()))
            copy = self.cache.get(key)
        if copy is None:
            copy = self.cache[key] = english_copy(draft.event, facts)
        return copy


def _insert_notifications(
    drafts: Sequence[NotificationDraft], now: datetime, copies: EnglishCopies
) -> dict[str, tuple[int, datetime]]:
    """{idempotency_key: (notification_id, created_at)} for every draft, new or existing."""
    title_length = Notification._meta.get_field("title").max_length or 200
    # The whole batch is one JSON document, encoded in one call (json's C encoder). Title,
    # content and context are encrypted on the way (RowInsert.prepared): each row's
    # context is a token in it, encoded by the field's own encoder.
    rows = []
    for draft in drafts:
        title, content = copies(draft)
        rows.append(
            {
                "idempotency_key": draft.idempotency_key,
                "title": title[:title_length],
                "content": content,
                "notification_type": draft.notification_type,
                "priority": draft.priority,
                "require_acknowledgment": draft.require_acknowledgment,
                "event": draft.event,
                "context": draft.context,
            }
        )
    inserted = insert_rows(
        RowInsert(
            Notification,
            (
                "idempotency_key",
                "title",
                "content",
                "notification_type",
                "priority",
                "require_acknowledgment",
                "event",
                "context",
            ),
            now=now,
            created_at=now,
        ),
        rows,
        unique=("idempotency_key",),
        returning=("idempotency_key", "id"),
    )
    # New rows were created now: no need to read 2,000 timestamps back.
    written = {str(key): (pk, now) for key, pk in inserted}
    # Keys used before (a re-run) are looked up apart, through the unique index; see
    # notifications.sending.writes.insert_recipients for why not in the same statement.
    missing = {d.idempotency_key for d in drafts} - written.keys()
    if missing:
        written |= {
            str(key): (pk, created)
            for key, pk, created in Notification.objects.filter(
                idempotency_key__in=missing
            ).values_list("idempotency_key", "id", "created_at")
        }
    return written


def record_drafts(
    drafts: Sequence[NotificationDraft],
    channels: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    decisions: DecisionCache | None = None,
    copies: EnglishCopies | None = None,
) -> SendResult:
    """Write one batch of drafts (a few hundred) in the caller's transaction."""
    chosen = validate_channels(channels)
    for draft in drafts:
        validate_draft(draft)
    now = now or timezone.now()
    result = SendResult(None, channels={name: ChannelCounts() for name in chosen})
    if not drafts:
        return result
    with transaction.atomic():
        written = _insert_notifications(drafts, now, copies or EnglishCopies())
        user_ids = {d.user_id for d in drafts}
        users = {
            pk: UserContact(pk, bool(email), sms_reachable(phone, verified), tz, active)
            for pk, email, phone, verified, tz, active in get_user_model()
            .objects.filter(**user_id_filter(user_ids, "pk"))
            .values_list(*USER_FIELDS)
            if pk in user_ids
        }
        pairs = [
            NotificationForUser(
                written[d.idempotency_key][0],
                d.notification_type,
                d.priority,
                written[d.idempotency_key][1],
                users[d.user_id],
            )
            for d in drafts
            if d.user_id in users
        ]
        result.merge(record_batch(pairs, chosen, now, decisions or DecisionCache(now)))
    return result
