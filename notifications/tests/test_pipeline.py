"""The delivery pipeline end to end: real Celery worker processes, the configured broker and
database, and a real SMTP server on loopback."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from medguard_backend.celery import app as celery_app
from medguard_backend.testing.factories import UserFactory
from medguard_backend.testing.processes import run_manage
from notifications.delivery import outbox
from notifications.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    NotificationRecipient,
)
from notifications.rendering.messages import render_message
from notifications.services import NotificationService
from notifications.tasks import send_deliveries

pytestmark = pytest.mark.worker


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def email_statuses() -> Counter[str]:
    return Counter(Delivery.objects.filter(channel="email").values_list("status", flat=True))


def test_reminder_email_arrives_once_in_each_recipients_language(start_worker, smtp_server) -> None:
    thandi = UserFactory(username="thandi", preferred_language="en")
    johan = UserFactory(username="johan", preferred_language="af")
    start_worker(**smtp_server.environ())

    for user in (thandi, johan):
        NotificationService.send_medication_reminder(
            user=user,
            medication_name="Aspirin",
            dosage="100mg",
            instructions="Take with food",
            channels=["email", "in_app"],
        )
    messages = smtp_server.wait_for(2)
    wait_until(lambda: email_statuses() == {"sent": 2}, what="both emails recorded as sent")
    time.sleep(2)  # anything sent twice would have arrived by now

    assert len(smtp_server.messages) == 2
    by_recipient = {message["To"]: message for message in messages}
    for user in (thandi, johan):
        delivery = Delivery.objects.get(recipient__user=user, channel="email")
        expected = render_message(
            delivery.recipient.notification, user, channel="email", show_medication_name=False
        )
        assert by_recipient[user.email]["Subject"] == expected.subject
        assert delivery.attempts == 1
        assert list(delivery.attempts_log.values_list("outcome", flat=True)) == ["sent"]
    assert by_recipient[thandi.email]["Subject"] != by_recipient[johan.email]["Subject"]
    # The in-app copies were completed by the worker too.
    assert set(Delivery.objects.filter(channel="in_app").values_list("status", flat=True)) == {
        "sent"
    }


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    start_worker, smtp_server, settings
) -> None:
    users = [UserFactory() for _ in range(10)]
    smtp_server.hold_after(4)
    worker = start_worker(**smtp_server.environ())

    notification = NotificationService.create_notification(
        "Clinic closed", "Friday", "general", "low"
    )
    NotificationService.send_notification_to_users(users, notification, channels=["email"])
    smtp_server.wait_until_held()
    worker.kill()
    # The held message was never accepted: the server answers 451 to nobody.
    smtp_server.release(client_killed=True)

    assert email_statuses() == {"sent": 4, "sending": 6}
    assert len(smtp_server.messages) == 4

    # Later, the sweeper finds the dead worker's claims and hands them out again.
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    summary = outbox.sweep(now=later)
    assert summary.reclaimed == 6
    start_worker(**smtp_server.environ())
    smtp_server.wait_for(10)
    wait_until(lambda: email_statuses() == {"sent": 10}, what="all ten emails sent")
    time.sleep(2)

    received = Counter(message["To"] for message in smtp_server.messages)
    assert received == Counter({user.email: 1 for user in users})
    # The crash left a trace in the audit: the attempt in flight was closed as lost.
    assert DeliveryAttempt.objects.filter(error="worker lost while sending").count() == 1


def test_the_same_batch_published_twice_is_sent_once(start_worker, smtp_server) -> None:
    users = [UserFactory() for _ in range(6)]
    notification = NotificationService.create_notification("Hello", "Twice", "general", "low")
    celery_app.control.purge()
    NotificationService.send_notification_to_users(users, notification, channels=["email"])
    ids = list(Delivery.objects.values_list("id", flat=True))
    send_deliveries.delay(ids)  # a redelivered or re-published message

    start_worker(concurrency=2, **smtp_server.environ())
    smtp_server.wait_for(6)
    wait_until(lambda: email_statuses() == {"sent": 6}, what="six emails sent")
    time.sleep(2)

    assert len(smtp_server.messages) == 6


def test_the_broker_down_during_a_send_delays_delivery_and_loses_nothing(
    start_worker, smtp_server
) -> None:
    user = UserFactory()
    # The web process sends while its broker is unreachable (nothing listens on port 1).
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from notifications.services import NotificationService\n"
        f"user = get_user_model().objects.get(pk={user.pk})\n"
        "result = NotificationService.send_medication_reminder(user=user,"
        " medication_name='Aspirin', dosage='100mg', channels=['email'])\n"
        "print(result.channels['email'].queued)\n"
    )
    sent = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        CELERY_RESULT_BACKEND="django-db",
    )

    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip() == "1"
    assert "could not publish 1 notifications.tasks.send_deliveries for 1 items" in sent.stderr
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.enqueued_at is None  # the failed publish left it for the sweeper

    start_worker(**smtp_server.environ())
    time.sleep(2)
    assert smtp_server.messages == []
    assert outbox.sweep().enqueued == 1
    smtp_server.wait_for(1)
    wait_until(lambda: email_statuses() == {"sent": 1}, what="the email sent")


def test_a_failing_smtp_server_is_retried_with_back_off_then_failed_with_the_reason(
    start_worker, smtp_server
) -> None:
    user = UserFactory()
    smtp_server.fail_data_with = "451 4.3.0 try again later"
    start_worker(
        NOTIFICATION_MAX_ATTEMPTS="3", NOTIFICATION_RETRY_BASE_SECONDS="0", **smtp_server.environ()
    )

    NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", channels=["email"]
    )
    delivery = Delivery.objects.get()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status == DeliveryStatus.FAILED:
            break
        if delivery.status == DeliveryStatus.PENDING and delivery.enqueued_at is None:
            outbox.sweep()  # what beat does every minute
        time.sleep(0.3)

    assert delivery.status == DeliveryStatus.FAILED
    assert "451" in delivery.last_error
    assert delivery.attempts == 3
    assert (
        list(delivery.attempts_log.values_list("outcome", flat=True))
        == [AttemptOutcome.TEMPORARY_FAILURE] * 3
    )
    assert smtp_server.messages == []


def test_a_refused_address_fails_at_once_and_does_not_hold_up_the_others(
    start_worker, smtp_server
) -> None:
    good, bad = UserFactory(), UserFactory()
    smtp_server.refuse_recipients.add(bad.email)
    start_worker(**smtp_server.environ())

    notification = NotificationService.create_notification("Hello", "All", "general", "low")
    NotificationService.send_notification_to_users([good, bad], notification, channels=["email"])
    smtp_server.wait_for(1)
    wait_until(lambda: email_statuses() == {"sent": 1, "failed": 1}, what="one sent and one failed")

    failed = Delivery.objects.get(status=DeliveryStatus.FAILED)
    assert failed.recipient.user == bad
    assert failed.attempts == 1
    assert "550" in failed.last_error
    assert bad.email not in failed.last_error
    assert [m["To"] for m in smtp_server.messages] == [good.email]
    assert NotificationRecipient.objects.filter(in_app=True).count() == 0
