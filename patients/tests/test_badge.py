"""The header's unread badge and the endpoint its script polls."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db


def notify(user):
    """Send a notification and deliver its in-app copy as the worker would (which is when
    the cached unread count is dropped)."""
    notification = NotificationService.create_notification(
        "Refill due", "See your pharmacist.", "stock", "medium", target_users=[user]
    )
    send_deliveries(
        list(
            Delivery.objects.filter(
                recipient__notification=notification, channel="in_app"
            ).values_list("pk", flat=True)
        )
    )
    return notification


def test_the_count_is_answered_with_an_etag_and_a_304_while_it_is_unchanged(signed_in, patient):
    notify(patient)

    first = signed_in.get("/me/unread/")
    again = signed_in.get("/me/unread/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first.json() == {"unread": 1}
    assert "private" in first["Cache-Control"]
    assert "no-cache" in first["Cache-Control"]
    assert again.status_code == 304
    assert again.content == b""


def test_a_new_notification_changes_the_answer(signed_in, patient):
    first = signed_in.get("/me/unread/")
    notify(patient)

    after = signed_in.get("/me/unread/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.json() == {"unread": 0}
    assert after.status_code == 200
    assert after.json() == {"unread": 1}
    assert after["ETag"] != first["ETag"]


def test_a_poll_with_the_count_cached_asks_the_database_only_for_the_session(signed_in, patient):
    notify(patient)
    signed_in.get("/me/unread/")

    with CaptureQueriesContext(connection) as queries:
        signed_in.get("/me/unread/")

    tables = [q["sql"].split('FROM "')[1].split('"')[0] for q in queries.captured_queries]
    assert sorted(tables) == ["accounts_user", "django_session"]


def test_a_signed_out_poll_gets_401_not_a_sign_in_page(client):
    assert client.get("/me/unread/").status_code == 401


def test_the_header_shows_the_count_before_any_poll(signed_in, patient):
    notify(patient)
    notify(patient)

    html = signed_in.get("/me/").content.decode()

    assert '<span class="count">2</span>' in html
