"""Demo notifications, sent through the real pipeline (NotificationService, the outbox and
the workers), so a newcomer sees in-app and email deliveries within a minute of start-up."""

from __future__ import annotations

from accounts.models import User
from notifications.services import NotificationService


def load_demo_notifications(people: dict[str, User]) -> None:
    # Idempotency keys make every start after the first a no-op.
    NotificationService.send_system_notification(
        title="Welcome to MedGuard SA",
        content="Your reminders and stock alerts will appear here and in your email.",
        priority="low",
        target_user_types=["patient", "caregiver", "staff"],
        idempotency_key="demo-welcome",
    )
    for username in ("thandi", "johan"):
        NotificationService.send_medication_reminder(
            user=people[username],
            medication_name="Metformin",
            dosage="500 mg",
            instructions="Take with breakfast",
            idempotency_key=f"demo-reminder-{username}",
        )
    NotificationService.send_system_notification(
        title="Scheduled maintenance",
        content="MedGuard will be unavailable tonight from 02:00 to 02:30.",
        priority="medium",
        notification_type="maintenance",
        target_user_types=["staff"],
        channels=["in_app", "email"],
        idempotency_key="demo-maintenance",
    )
