"""Provider texts that may echo a number or an address are redacted before they are stored:
every ``TransportError`` reason (what ``Delivery.last_error``, ``DeliveryAttempt.error`` and
an invitation's ``sms_error`` hold) and every receipt's detail."""

from __future__ import annotations

import pytest
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from notifications.channels import TransportError
from notifications.models import Delivery, DeliveryReceipt, Notification, NotificationRecipient
from privacy.models import AuditEntry
from privacy.redaction import redact_contact_details
from privacy.services.audit import record, record_many

SECRET = "hook-secret-0123456789"


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (
            "The 'To' number +27821234567 is not a valid phone number.",
            "The 'To' number [redacted] is not a valid phone number.",
        ),
        ("to 27821234567 failed", "to [redacted] failed"),
        ("call 082 123 4567 or (082) 123-4567", "call [redacted] or [redacted]"),
        (
            "550 5.1.1 <thandi.m+rx@example.co.za>: user unknown",
            "550 5.1.1 <[redacted]>: user unknown",
        ),
        # What must stay: statuses, provider codes, our own keys.
        ("twilio 21211: invalid number (HTTP 400)", "twilio 21211: invalid number (HTTP 400)"),
        ("SMTP 550 5.1.1 recipient refused", "SMTP 550 5.1.1 recipient refused"),
        ("delivery-123456789012", "delivery-123456789012"),
    ],
)
def test_numbers_and_addresses_are_redacted_and_codes_kept(text, redacted):
    assert redact_contact_details(text) == redacted


def test_a_transport_error_never_carries_the_number_it_was_given():
    error = TransportError("gateway said: number +27821234567 barred", permanent=True)

    assert error.reason == "gateway said: number [redacted] barred"
    assert str(error) == error.reason


@pytest.mark.django_db
def test_a_gateways_failure_reason_echoing_the_number_is_stored_redacted(settings):
    settings.PROVIDER_WEBHOOK_SECRET = SECRET
    notification = Notification.objects.create(title="Reminder", notification_type="medication")
    recipient = NotificationRecipient.objects.create(notification=notification, user=UserFactory())
    sent = Delivery.objects.create(
        recipient=recipient,
        channel="sms",
        status="sent",
        provider="africastalking",
        provider_message_id="ATXid_7",
    )

    response = Client().post(
        f"/hooks/africastalking/{SECRET}/status/",
        {
            "id": "ATXid_7",
            "status": "Rejected",
            "phoneNumber": "+27821234567",
            "failureReason": "UserInBlacklist: +27821234567",
        },
    )

    assert response.status_code == 200
    receipt = DeliveryReceipt.objects.get(delivery=sent)
    assert receipt.detail == "UserInBlacklist: [redacted]"


@pytest.mark.django_db
def test_a_staff_reason_naming_a_number_is_kept_in_the_audit_trail_redacted():
    staff = UserFactory(is_staff=True)
    patient = UserFactory()

    entries = record_many(
        actor=staff,
        action="change",
        resource="delivery",
        subjects=[(patient.pk, 41)],
        what="outcome unknown: marked sent; reason: gateway confirmed for 082 555 0147",
    )
    single = record(
        subject_id=patient.pk,
        actor=staff,
        action="change",
        resource="delivery",
        what="resent; reason: asked thandi@example.org",
    )

    assert [
        e.what for e in AuditEntry.objects.filter(pk__in=[entries[0].pk, single.pk]).order_by("pk")
    ] == [
        "outcome unknown: marked sent; reason: gateway confirmed for [redacted]",
        "resent; reason: asked [redacted]",
    ]
