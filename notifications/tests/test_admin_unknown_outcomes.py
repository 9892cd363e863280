"""Staff settle deliveries whose outcome is unknown from the admin, signed in with their
password: ask the provider now, mark sent, or resend once the provider confirmed it never
took the message. Each change is in the audit trail with the staff member and the reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.providers import Answer
from notifications.models import Delivery, Notification, NotificationRecipient
from privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "long-test-password-1"  # UserFactory's
CHANGELIST = "/admin/notifications/delivery/"


def signed_in(*permissions: str) -> tuple[Client, object]:
    staff = UserFactory(username="nomsa", user_type="staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications", codename__in=permissions
        )
    )
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "nomsa", "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"] == "/admin/"
    return client, staff


def delivery(status: str = "unknown", provider: str = "fcm", channel: str = "push") -> Delivery:
    notification = Notification.objects.create(title="Reminder")
    recipient = NotificationRecipient.objects.create(notification=notification, user=UserFactory())
    return Delivery.objects.create(
        recipient=recipient, channel=channel, status=status, provider=provider, attempts=1
    )


def act(client: Client, action: str, deliveries, **form: str):
    """Choose the action for ``deliveries`` on the change list, then, when ``form`` is
    given, answer its confirmation page."""
    selected = [str(d.pk) for d in deliveries]
    page = client.post(CHANGELIST, {"action": action, "_selected_action": selected, "index": 0})
    if not form:
        return page
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": selected, "settle": "1", **form}
    )


def test_marking_sent_asks_for_a_reason_then_records_it_with_the_staff_member():
    client, staff = signed_in("view_delivery", "change_delivery")
    waiting, already_sent = delivery(), delivery(status="sent")

    page = act(client, "mark_unknown_sent", [waiting, already_sent])
    assert page.status_code == 200
    assert b"Reason" in page.content
    assert Delivery.objects.get(pk=waiting.pk).status == "unknown"

    done = act(
        client,
        "mark_unknown_sent",
        [waiting, already_sent],
        reason="FCM console shows it delivered (ticket 4411)",
    )

    assert done.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.last_error) == ("sent", "")
    assert waiting.sent_at is not None
    [entry] = AuditEntry.objects.all()
    assert (entry.actor, entry.actor_role, entry.action, entry.resource) == (
        staff,
        "staff",
        "change",
        "delivery",
    )
    assert (entry.subject_id, entry.object_id) == (waiting.recipient.user_id, str(waiting.pk))
    assert entry.what == (
        "marked sent: provider confirmed it took it; "
        "reason: FCM console shows it delivered (ticket 4411)"
    )
    assert entry.ip_address == "127.0.0.1"
    assert Delivery.objects.get(pk=already_sent.pk).status == "sent"


def test_a_resend_needs_the_providers_confirmation_that_it_never_took_the_message():
    client, staff = signed_in("view_delivery", "change_delivery")
    waiting = delivery()

    refused = act(client, "resend_unknown", [waiting], reason="Support says not received")

    assert refused.status_code == 200
    assert b"This field is required" in refused.content
    assert Delivery.objects.get(pk=waiting.pk).status == "unknown"
    assert not AuditEntry.objects.exists()

    done = act(
        client,
        "resend_unknown",
        [waiting],
        reason="Support says not received (ticket 77)",
        confirmed="on",
    )

    assert done.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.last_error == (
        "resent: staff confirmed the provider never took it: Support says not received (ticket 77)"
    )
    [entry] = AuditEntry.objects.all()
    assert entry.actor == staff
    assert entry.what.startswith("resent: staff confirmed the provider never took it; reason:")


def test_asking_bulksms_settles_what_it_took_and_resends_what_it_never_took(
    settings, provider_server
):
    settings.BULKSMS_API_URL = provider_server.url
    settings.BULKSMS_TOKEN_ID = "bs-id"
    settings.BULKSMS_TOKEN_SECRET = "bs-secret"
    client, _staff = signed_in("view_delivery", "change_delivery")
    taken = delivery(provider="bulksms", channel="sms")
    lost = delivery(provider="bulksms", channel="sms")
    no_api = delivery(provider="fcm")
    # BulkSMS answers GET /v1/messages with the messages sent under the filter's
    # userSuppliedId: one for the first delivery, none for the second.
    provider_server.script(
        "/v1/messages",
        Answer(
            200,
            [
                {
                    "id": "bs-9001",
                    "type": "SENT",
                    "userSuppliedId": f"delivery-{taken.pk}",
                    "status": {"id": "DELIVERED", "type": "DELIVERED", "subtype": None},
                }
            ],
        ),
        Answer(200, []),
    )

    done = act(
        client, "reconcile_unknown_now", [taken, lost, no_api], reason="Morning check of unknowns"
    )

    assert done.status_code == 302
    lookups = provider_server.requests_to("/v1/messages")
    assert [(r.method, r.query["filter"]) for r in lookups] == [
        ("GET", f"userSuppliedId=delivery-{taken.pk}"),
        ("GET", f"userSuppliedId=delivery-{lost.pk}"),
    ]
    assert lookups[0].headers["authorization"].startswith("Basic ")
    taken.refresh_from_db()
    lost.refresh_from_db()
    assert (taken.status, taken.provider_message_id) == ("sent", "bs-9001")
    assert lost.status == "pending"
    assert Delivery.objects.get(pk=no_api.pk).status == "unknown"
    assert sorted(AuditEntry.objects.values_list("object_id", flat=True)) == sorted(
        [str(taken.pk), str(lost.pk)]
    )
    followed = client.get(done["Location"])
    assert b"1 sent, 1 never taken and queued again, 0 lookups failed, 1 without" in (
        followed.content
    )


def test_a_failed_lookup_leaves_the_delivery_unknown(settings, provider_server):
    settings.BULKSMS_API_URL = provider_server.url
    client, _staff = signed_in("view_delivery", "change_delivery")
    waiting = delivery(provider="bulksms", channel="sms")
    provider_server.script("/v1/messages", Answer(503, "busy"))

    act(client, "reconcile_unknown_now", [waiting], reason="Morning check of unknowns")

    assert Delivery.objects.get(pk=waiting.pk).status == "unknown"
    assert not AuditEntry.objects.exists()


def test_staff_who_may_only_look_at_deliveries_are_not_offered_the_actions():
    client, _staff = signed_in("view_delivery")
    waiting = delivery()

    page = client.get(CHANGELIST)
    attempt = act(client, "mark_unknown_sent", [waiting], reason="Trying without permission")

    assert page.status_code == 200
    assert b"mark_unknown_sent" not in page.content
    assert attempt.status_code in (200, 302)
    assert Delivery.objects.get(pk=waiting.pk).status == "unknown"
    # Only the look at the list is recorded (privacy.admin_audit), no change.
    assert list(AuditEntry.objects.values_list("action", "what")) == [
        ("read", "admin list notifications.delivery")
    ]
