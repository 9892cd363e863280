"""Demo notifications, sent through the real pipeline (NotificationService, the outbox and
the workers), so a newcomer sees in-app and email deliveries within a minute of start-up.

Each is written in its reader's language: one notification per language, sent to the
readers of that language (free text is shown as written, so it is translated here).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from medications.models import Supply
from notifications.services import NotificationService


@transaction.atomic
def _send_in_each_language(
    key: str,
    title: str,
    content: str,
    user_types: Sequence[str],
    *,
    notification_type: str,
    priority: str,
    channels: Sequence[str] | None = None,
) -> None:
    users = get_user_model().objects.filter(is_active=True, user_type__in=list(user_types))
    for language, _name in settings.LANGUAGES:
        readers = users.filter(preferred_language=language)
        if not readers.exists():
            continue
        with translation.override(language):
            notification = NotificationService.create_notification(
                title=gettext(title),
                content=gettext(content),
                notification_type=notification_type,
                priority=priority,
                # Idempotency keys make every start after the first a no-op.
                idempotency_key=f"{key}-{language}",
            )
        NotificationService.send_notification_to_users(readers, notification, channels)


def load_demo_notifications(people: dict[str, User]) -> None:
    _send_in_each_language(
        "demo-welcome",
        translation.gettext_noop("Welcome to MedGuard SA"),
        translation.gettext_noop(
            "Your reminders and stock alerts will appear here and in your email."
        ),
        ["patient", "caregiver", "staff"],
        notification_type="system",
        priority="low",
    )
    for username in ("thandi", "johan"):
        supply = (
            Supply.objects.filter(patient=people[username], schedules__slot="morning")
            .select_related("medicine")
            .first()
        )
        if supply is None:
            continue
        NotificationService.send_medication_reminder(
            user=people[username],
            medication_name=str(supply.medicine),
            dosage=supply.dosage,
            instructions=supply.instructions,
            idempotency_key=f"demo-reminder-{username}",
        )
    _send_in_each_language(
        "demo-maintenance",
        translation.gettext_noop("Scheduled maintenance"),
        translation.gettext_noop("MedGuard will be unavailable tonight from 02:00 to 02:30."),
        ["staff"],
        notification_type="maintenance",
        priority="medium",
        channels=["in_app", "email"],
    )
