"""The clinic pages: who may see them, the dashboard's figures, CSV, broadcasts, reports."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import DeliveryDay, FailureDay
from clinic.rollups import refresh_rollups
from medguard_backend.testing.factories import UserFactory
from notifications.models import Delivery, Notification, NotificationRecipient
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

PASSWORD = "long-test-password-1"
TODAY = timezone.localdate()


def signed_in(client, **fields):
    user = UserFactory(**fields)
    assert client.login(username=user.username, password=PASSWORD)
    return user


@pytest.fixture
def staff_client(client):
    signed_in(client, user_type="staff")
    return client


def test_a_visitor_is_sent_to_sign_in(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "next=/staff/" in response["Location"]


@pytest.mark.parametrize("path", ["/staff/", "/staff/broadcast/", "/staff/export/deliveries.csv"])
def test_a_patient_is_refused_not_sent_to_sign_in(client, path):
    signed_in(client, user_type="patient")
    assert client.get(path).status_code == 403


def test_a_healthcare_provider_sees_the_dashboard_but_cannot_broadcast(client):
    signed_in(client, user_type="healthcare_provider")
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/broadcast/").status_code == 403


def test_the_dashboard_shows_the_rollups_of_the_period(staff_client):
    DeliveryDay.objects.create(day=TODAY, channel="sms", status="sent", count=7)
    DeliveryDay.objects.create(day=TODAY, channel="sms", status="failed", count=2)
    DeliveryDay.objects.create(
        day=TODAY - datetime.timedelta(days=40), channel="sms", status="sent", count=99
    )
    FailureDay.objects.create(day=TODAY, channel="sms", reason="invalid number", count=2)

    response = staff_client.get("/staff/")

    assert response.status_code == 200
    board = response.context["board"]
    assert board.total_deliveries == 9
    assert board.deliveries_by_channel["sms"]["sent"] == 7
    assert board.failure_reasons == [("sms", "invalid number", 2)]
    assert b"<title>Clinic dashboard" in response.content
    assert b"invalid number" in response.content


def test_the_dashboard_costs_the_same_queries_whatever_the_number_of_deliveries(staff_client):
    users = UserFactory.create_batch(3)
    note = NotificationService.create_notification("A", "B", "system", "low", target_users=users)
    NotificationService.send_notification_to_users(users, note, channels=["email"])
    refresh_rollups()
    staff_client.get("/staff/")  # the session's first page reads a few things once
    with CaptureQueriesContext(connection) as few:
        staff_client.get("/staff/")
    more = UserFactory.create_batch(30)
    note = NotificationService.create_notification("C", "D", "system", "low", target_users=more)
    NotificationService.send_notification_to_users(more, note, channels=["email", "sms"])
    refresh_rollups()
    with CaptureQueriesContext(connection) as many:
        response = staff_client.get("/staff/")
    assert response.context["board"].total_deliveries == (3 + 3) + (
        30 * 2
    )  # SMS is off by default: no rows
    assert len(many) == len(few)


def test_an_end_before_the_start_is_an_error_next_to_the_field(staff_client):
    response = staff_client.get("/staff/", {"start": "2026-11-20", "end": "2026-11-10"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "end": ["The end date must not be before the start date."]
    }
    assert response.context["board"].period.end == TODAY  # the default fortnight instead


def test_the_dashboard_speaks_the_staff_members_language(client):
    signed_in(client, user_type="staff", preferred_language="af")
    response = client.get("/staff/")
    assert response["Content-Language"] == "af"
    assert "Kliniekpaneelbord" in response.content.decode()


def test_the_charts_in_afrikaans_give_svg_lengths_with_a_decimal_point(client):
    """Afrikaans writes 557,14; an SVG length must be 557.14 or the bar is not drawn."""
    signed_in(client, user_type="staff", preferred_language="af")
    for days_ago, count in enumerate((7, 3, 5)):
        day = TODAY - datetime.timedelta(days=days_ago)
        DeliveryDay.objects.create(day=day, channel="sms", status="sent", count=count)

    html = client.get("/staff/").content.decode()

    lengths = re.findall(r'<rect x="([^"]*)" y="([^"]*)" width="([^"]*)" height="([^"]*)"', html)
    assert lengths
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", value) for rect in lengths for value in rect), lengths


def test_csv_export_gives_the_table_and_quotes_formulas(staff_client):
    FailureDay.objects.create(day=TODAY, channel="email", reason="=HYPERLINK(1)", count=3)
    response = staff_client.get("/staff/export/failures.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["channel", "reason", "count"], ["email", "'=HYPERLINK(1)", "3"]]


def test_an_unknown_export_is_not_found(staff_client):
    assert staff_client.get("/staff/export/passwords.csv").status_code == 404


FORM = {
    "title": "Pharmacy closed on Friday",
    "content": "Collect your medication on Thursday.",
    "priority": "medium",
    "target_user_types": ["patient"],
    "channels": ["in_app", "email"],
}


def test_a_broadcast_shows_the_recipient_count_before_sending(staff_client):
    UserFactory.create_batch(3, user_type="patient")
    UserFactory(user_type="caregiver")
    UserFactory(user_type="patient", is_active=False)

    response = staff_client.post("/staff/broadcast/", FORM)

    assert response.status_code == 200
    assert response.context["recipients"] == 3
    assert "3 people will receive it." in response.content.decode()
    assert not Notification.objects.exists()


def test_confirming_sends_once_even_when_pressed_twice(staff_client):
    patients = UserFactory.create_batch(2, user_type="patient")
    preview = staff_client.post("/staff/broadcast/", FORM)
    confirm = {**FORM, "confirm": "1", "broadcast_key": preview.context["broadcast_key"]}

    first = staff_client.post("/staff/broadcast/", confirm)
    second = staff_client.post("/staff/broadcast/", confirm)

    notification = Notification.objects.get()
    assert first["Location"] == second["Location"] == f"/staff/notifications/{notification.pk}/"
    assert set(NotificationRecipient.objects.values_list("user_id", flat=True)) == {
        p.pk for p in patients
    }
    assert set(Delivery.objects.values_list("channel", flat=True)) <= {"in_app", "email"}


def test_a_broadcast_without_a_title_says_so_and_sends_nothing(staff_client):
    response = staff_client.post("/staff/broadcast/", {**FORM, "title": "", "confirm": "1"})
    assert response.context["form"].errors["title"] == ["This field is required."]
    assert not Notification.objects.exists()


def test_the_delivery_report_counts_by_channel_and_status(staff_client):
    users = UserFactory.create_batch(2)
    note = NotificationService.create_notification("T", "C", "system", "low", target_users=users)
    NotificationService.send_notification_to_users(users, note, channels=["email"])
    Delivery.objects.filter(channel="email").update(status="sent")

    response = staff_client.get(f"/staff/notifications/{note.pk}/")

    assert response.context["report"]["channels"]["email"]["sent"] == 2
    assert staff_client.get("/staff/notifications/999999/").status_code == 404
