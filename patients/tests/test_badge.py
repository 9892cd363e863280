"""The header's unread badge and the endpoint its script polls."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
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


def tables_read(queries: CaptureQueriesContext) -> list[str]:
    return sorted(q["sql"].split('FROM "')[1].split('"')[0] for q in queries.captured_queries)


def test_with_a_shared_cache_a_poll_asks_the_database_only_for_the_session(
    signed_in, patient, settings, tmp_path
):
    # A file-based cache is shared by processes as Redis is (and needs no server here).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    notify(patient)
    signed_in.get("/me/unread/")

    with CaptureQueriesContext(connection) as queries:
        signed_in.get("/me/unread/")

    assert tables_read(queries) == ["accounts_user", "django_session"]


def test_with_a_per_process_cache_a_poll_counts_in_one_query_so_a_workers_delivery_shows(
    signed_in, patient, settings
):
    """The embedded default's cache lives in each process: a count cached in the web
    process would not hear of the worker's delivery. So the poll counts every time, in one
    query: the session, the user, the count."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # a local-memory cache of the same name keeps other tests' counts
    notify(patient)
    signed_in.get("/me/unread/")

    with CaptureQueriesContext(connection) as queries:
        answer = signed_in.get("/me/unread/")

    assert answer.json() == {"unread": 1}
    assert tables_read(queries) == [
        "accounts_user",
        "django_session",
        "notifications_notificationrecipient",
    ]


def test_the_count_is_answered_from_the_inbox_index(patient):
    from notifications.models import NotificationRecipient

    notify(patient)
    unread = NotificationRecipient.objects.filter(user_id=patient.pk, in_app=True, status="unread")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table of a few rows is read whole; the question is whether the index serves it.
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = unread.explain()

    assert "recipient_inbox_idx" in plan


def test_a_signed_out_poll_gets_401_not_a_sign_in_page(client):
    assert client.get("/me/unread/").status_code == 401


def test_the_header_shows_the_count_before_any_poll(signed_in, patient):
    notify(patient)
    notify(patient)

    html = signed_in.get("/me/").content.decode()

    assert '<span class="count">2</span>' in html


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_badge_shows_a_reminder_the_worker_sent_within_5_seconds(
    client, patient, settings, start_worker
):
    """A real worker, with a cache of its own (the embedded default's per-process cache),
    writes and delivers a reminder; the web process's next poll shows it."""
    from medications.tests.factories import ScheduleFactory, SupplyFactory
    from notifications.models import Notification
    from notifications.tasks import send_medication_reminder

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()  # a local-memory cache of the same name keeps other tests' counts
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))
    client.force_login(patient)
    assert client.get("/me/unread/").json() == {"unread": 0}
    start_worker(REDIS_URL="")

    send_medication_reminder.delay(schedule.pk)
    deadline = time.monotonic() + 60
    while not Notification.objects.filter(recipients__user=patient).exists():
        assert time.monotonic() < deadline, "the worker wrote no reminder"
        time.sleep(0.1)
    written = time.monotonic()
    while (count := client.get("/me/unread/").json()["unread"]) != 1:
        assert time.monotonic() - written < 5, f"the badge still says {count}"
        time.sleep(0.25)
