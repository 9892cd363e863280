"""Shared people, notifications and contexts for the rendering tests."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import User
from notifications.events import EVENTS
from notifications.models import Notification
from notifications.rendering.messages import (
    RenderedMessage,
    TemplateOverrides,
    render_message,
)

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")
LONDON = ZoneInfo("Europe/London")
NO_OVERRIDES = TemplateOverrides.empty()
CHANNELS = ("in_app", "email", "sms", "push")
PARTS_OF_CHANNEL = {
    "in_app": ("title", "content"),
    "email": ("subject", "text", "html"),
    "sms": ("sms",),
    "push": ("push_title", "push_body"),
}
ALL_FIELDS = ("title", "content", "subject", "text", "html", "sms", "push_title", "push_body")
REQUIRED_PARTS = ("title.txt", "content.txt", "email.html", "sms.txt", "push_title.txt", "push.txt")
MEDICATION = "Metformin 500 mg"

# 11:30 UTC: 13:30 in Johannesburg (UTC+2), 11:30 in London (GMT in November).
DOSE_TIME = "2026-11-28T11:30:00+00:00"

CONTEXTS: dict[str, dict[str, Any]] = {
    "custom": {},
    "test": {},
    "medication_reminder": {
        "medication_name": MEDICATION,
        "dosage": "1 tablet",
        "instructions": "Take with food.",
        "dose_time": DOSE_TIME,
    },
    "missed_dose": {
        "patient_name": "Thandi",
        "dose_time": DOSE_TIME,
        "medication_name": MEDICATION,
    },
    "low_stock": {
        "medication_name": MEDICATION,
        "days_of_supply": 5,
        "run_out_date": "2026-11-28",
        "quantity_on_hand": 10,
        "unit": "tablets",
    },
    "expiry_warning": {
        "medication_name": MEDICATION,
        "expiry_date": "2026-11-28",
        "days_until_expiry": 14,
    },
    "medication_expired": {"medication_name": MEDICATION, "expiry_date": "2026-11-28"},
}
MEDICATION_EVENTS = sorted(key for key, event in EVENTS.items() if event.mentions_medication)


def person(language: str = "en", zone: ZoneInfo = JOHANNESBURG, **fields: Any) -> User:
    """An unsaved user: rendering reads only these fields."""
    fields.setdefault("username", "anna")
    fields.setdefault("first_name", "Anna")
    return User(preferred_language=language, timezone=zone, **fields)


def notification(event: str, context: dict[str, Any] | None = None, **fields: Any) -> Notification:
    fields.setdefault("pk", 42)
    fields.setdefault("title", "Pharmacy closed on Friday")
    fields.setdefault("content", "Collect your medication on Thursday.")
    return Notification(
        event=event, context=CONTEXTS[event] if context is None else context, **fields
    )


def render(
    event: str,
    channel: str,
    *,
    language: str = "en",
    zone: ZoneInfo = JOHANNESBURG,
    show_medication_name: bool = True,
    context: dict[str, Any] | None = None,
    **fields: Any,
) -> RenderedMessage:
    return render_message(
        notification(event, context, **fields),
        person(language, zone),
        channel=channel,
        show_medication_name=show_medication_name,
        overrides=NO_OVERRIDES,
    )
