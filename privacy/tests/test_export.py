"""The export: everything held about the caller in one JSON document, streamed."""

from __future__ import annotations

import json
import tracemalloc

from django.utils import timezone

from notifications.models import Delivery, Notification, NotificationRecipient
from privacy.models import AuditEntry

from .people import MEDICINE, household


def read_stream(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_export_holds_everything_about_the_caller(patient, caregiver, api_client_for) -> None:
    household(patient, caregiver)
    api_client_for(caregiver).get(f"/api/patients/{patient.pk}/medications/")

    response = api_client_for(patient).get("/api/me/export/")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    document = json.loads(read_stream(response))
    assert list(document) == [
        "format",
        "generated_at",
        "profile",
        "preferences",
        "consents",
        "consent_history",
        "medicines",
        "schedules",
        "doses",
        "notifications",
        "deliveries",
        "push_devices",
        "caregiver_links",
        "audit",
    ]
    profile = document["profile"]
    assert (profile["email"], profile["phone"], profile["last_name"]) == (
        patient.email,
        "+27825550147",
        "Mokoena",
    )
    assert "password" not in profile
    assert document["preferences"]["sms_reminders_consent"] is True
    assert [(r["purpose"], r["granted"], r["method"]) for r in document["consent_history"]] == [
        ("sms_reminders", True, "api")
    ]
    assert [m["medicine__name"] for m in document["medicines"]] == [MEDICINE]
    assert len(document["schedules"]) == 1
    assert [d["status"] for d in document["doses"]] == ["missed"]
    own = NotificationRecipient.objects.filter(user=patient).count()
    assert len(document["notifications"]) == own == 3  # reminder, low stock, clinic notice
    assert len(document["deliveries"]) == Delivery.objects.filter(recipient__user=patient).count()
    assert "token" not in document["push_devices"][0]  # a credential, not information
    assert [link["caregiver__username"] for link in document["caregiver_links"]] == ["lerato"]
    assert [(e["actor_role"], e["action"], e["resource"]) for e in document["audit"]] == [
        ("self", "change", "consent"),
        ("caregiver", "read", "medications"),
        ("self", "export", "export"),
    ]


def notifications_for(user, count: int) -> None:
    now = timezone.now()
    batch = 2000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        notifications = Notification.objects.bulk_create(
            Notification(
                title=f"Reminder {start + n}",
                content="Time for your medication " + "x" * 100,
                notification_type="medication",
            )
            for n in range(size)
        )
        recipients = NotificationRecipient.objects.bulk_create(
            NotificationRecipient(notification=n, user=user, created_at=now) for n in notifications
        )
        Delivery.objects.bulk_create(
            Delivery(recipient=r, channel="email", status="sent", sent_at=now) for r in recipients
        )


def export_peak_memory(client) -> tuple[int, int]:
    """(peak bytes allocated while streaming the export, its length in bytes)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        length = sum(len(chunk) for chunk in client.get("/api/me/export/").streaming_content)
        return tracemalloc.get_traced_memory()[1], length
    finally:
        tracemalloc.stop()


def test_exporting_a_hundred_thousand_notifications_takes_no_more_memory_than_a_thousand(
    patient, api_client_for
) -> None:
    """The issue's case: a user with 100,000 notifications (and their deliveries)."""
    client = api_client_for(patient)
    notifications_for(patient, 1_000)
    export_peak_memory(client)  # warm up: imports, caches, the first compiled queries
    peak_small, length_small = export_peak_memory(client)
    notifications_for(patient, 99_000)

    peak_large, length_large = export_peak_memory(client)

    assert length_large > 90 * length_small  # a hundred times the document...
    assert peak_large < 1.5 * peak_small  # ...in about the same memory
    assert AuditEntry.objects.filter(subject=patient, action="export").count() == 3
