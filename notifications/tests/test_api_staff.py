"""Staff tools: broadcasting a system notification and a notification's delivery report."""

from __future__ import annotations

import pytest

from medguard_backend.testing.factories import UserFactory
from notifications.api.staff_serializers import DeliveryStatusCountsSerializer
from notifications.models import Delivery, DeliveryStatus, Notification, NotificationRecipient
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

URL = "/api/staff/system-notifications/"
BODY = {
    "title": "System Maintenance",
    "content": "Scheduled maintenance tonight at 2 AM",
    "priority": "medium",
    "target_user_types": ["patient"],
    "notification_type": "maintenance",
    "require_acknowledgment": False,
}


def test_staff_send_a_system_notification_to_the_listed_user_types(
    api_client_for, staff_member, patient, other_patient
):
    UserFactory(username="carer", user_type="caregiver")

    response = api_client_for(staff_member).post(URL, BODY, format="json")

    assert response.status_code == 201
    notification = Notification.objects.get()
    body = response.json()
    assert body["notification_id"] == notification.pk
    assert body["recipients"] == 2
    assert body["channels"]["in_app"] == {
        "queued": 2,
        "deferred": 0,
        "skipped": 0,
        "skipped_reasons": {},
    }
    assert notification.created_by == staff_member
    assert notification.notification_type == "maintenance"
    assert set(NotificationRecipient.objects.values_list("user__username", flat=True)) == {
        "thandi",
        "johan",
    }


def test_a_member_of_staff_by_user_type_alone_may_send(api_client_for, patient):
    pharmacist = UserFactory(username="lerato", user_type="staff", is_staff=False)

    response = api_client_for(pharmacist).post(URL, BODY, format="json")

    assert response.status_code == 201


def test_a_patient_gets_403_and_nothing_is_sent(api):
    response = api.post(URL, BODY, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert not Notification.objects.exists()


def test_anonymous_callers_get_401_on_staff_endpoints(api_client_for):
    client = api_client_for()

    assert client.post(URL, BODY, format="json").status_code == 401
    assert client.get("/api/staff/notifications/1/delivery-report/").status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target_user_types": []}, "target_user_types"),
        ({"target_user_types": "staff"}, "target_user_types"),
        ({"target_user_types": ["robots"]}, "target_user_types"),
        ({"priority": "urgent"}, "priority"),
        ({"notification_type": "weather"}, "notification_type"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"content": "x" * 5001}, "content"),
        ({"channels": ["sms"]}, "channels"),
    ],
)
def test_invalid_broadcasts_are_a_400_naming_the_field(api_client_for, staff_member, change, field):
    response = api_client_for(staff_member).post(URL, {**BODY, **change}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not Notification.objects.exists()


def test_the_target_user_types_are_required(api_client_for, staff_member):
    body = {key: value for key, value in BODY.items() if key != "target_user_types"}

    response = api_client_for(staff_member).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"target_user_types": ["This field is required."]}


def test_a_service_refusal_is_a_400(api_client_for, staff_member, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("unknown channel 'fax'")

    monkeypatch.setattr(NotificationService, "send_system_notification", refuse)

    response = api_client_for(staff_member).post(URL, BODY, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["unknown channel 'fax'"]}


# --- Delivery report ----------------------------------------------------------------------------


def test_the_delivery_report_counts_by_channel_and_status_in_one_query(
    api_client_for, staff_member, patient, other_patient, django_assert_num_queries
):
    result = NotificationService.send_system_notification(
        "Maintenance", "Tonight", target_user_types=["patient"], channels=["email", "in_app"]
    )
    Delivery.objects.filter(channel="email", recipient__user=patient).update(status="sent")
    client = api_client_for(staff_member)
    url = f"/api/staff/notifications/{result.notification.pk}/delivery-report/"

    with django_assert_num_queries(2):  # the token with its user; the report
        response = client.get(url)

    assert response.status_code == 200
    zero = dict.fromkeys([*DeliveryStatus.values, "delivered", "undelivered", "expired"], 0)
    assert response.json() == {
        "notification_id": result.notification.pk,
        "total": 4,
        "channels": {
            "email": {**zero, "sent": 1, "pending": 1, "total": 2},
            "in_app": {**zero, "pending": 2, "total": 2},
        },
    }


def test_a_notification_without_deliveries_has_an_empty_report(api_client_for, staff_member):
    notification = NotificationService.create_notification("Hi", "", target_users=[])

    response = api_client_for(staff_member).get(
        f"/api/staff/notifications/{notification.pk}/delivery-report/"
    )

    assert response.status_code == 200
    assert response.json() == {"notification_id": notification.pk, "total": 0, "channels": {}}


def test_an_unknown_notification_has_no_report(api_client_for, staff_member):
    client = api_client_for(staff_member)

    assert client.get("/api/staff/notifications/999999/delivery-report/").status_code == 404
    assert client.get(f"/api/staff/notifications/{2**64}/delivery-report/").status_code == 404


def test_a_patient_cannot_read_delivery_reports(api, patient):
    notification = NotificationService.create_notification("Hi", "", target_users=[patient])

    response = api.get(f"/api/staff/notifications/{notification.pk}/delivery-report/")

    assert response.status_code == 403


def test_the_report_lists_every_delivery_status_and_receipt_outcome():
    receipts = {"delivered", "undelivered", "expired"}
    assert set(DeliveryStatus.values) | receipts | {"total"} == set(
        DeliveryStatusCountsSerializer().fields
    )
