"""Poison messages: a delivery whose send kills its worker every time is split off its batch
(the healthy ones go out) and then failed for good, instead of being handed out every stuck
timeout forever. The counting and splitting in the test process, then a real worker killed
(SIGKILL) by a fault injector each time it sends one marked email, over the real SMTP
server."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from medguard_backend.testing.factories import UserFactory
from notifications.delivery import claims, dispatch, operations, outbox, outcomes
from notifications.delivery.poison import POISONED
from notifications.models import Delivery, DeliveryAttempt
from notifications.services import NotificationService


def send_email(users) -> list[int]:
    notification = NotificationService.create_notification("Hello", "There", "general", "high")
    NotificationService.send_notification_to_users(users, notification, channels=["email"])
    return list(
        Delivery.objects.filter(recipient__notification=notification)
        .order_by("id")
        .values_list("id", flat=True)
    )


def worker_dies_holding(ids: list[int], settings) -> None:
    """One claim of ``ids`` whose worker started the first send and died; the sweeper
    settles it once it is stuck."""
    now = timezone.now()
    claimed = claims.claim(uuid.uuid4(), Delivery.objects.filter(pk__in=ids), now)
    assert [c.id for c in claimed] == ids
    first = Delivery.objects.get(pk=ids[0])
    outcomes.start_attempts([(first.pk, first.attempts)])
    later = now + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    outbox.reclaim_stuck(later)


def poison_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "notifications.delivery.poison"]


def counts(delivery_id: int) -> tuple[str, int, int]:
    delivery = Delivery.objects.get(pk=delivery_id)
    return delivery.status, delivery.reclaims, delivery.reclaims_alone


@pytest.mark.django_db
def test_a_batch_whose_worker_died_counts_a_reclaim_each_but_none_alone(settings) -> None:
    ids = send_email([UserFactory(), UserFactory(), UserFactory()])

    worker_dies_holding(ids, settings)

    assert [counts(pk) for pk in ids] == [("pending", 1, 0)] * 3


@pytest.mark.django_db
def test_a_delivery_that_kills_its_worker_alone_every_time_is_failed_for_good(
    settings, caplog
) -> None:
    settings.NOTIFICATION_MAX_RECLAIMS = 3
    user = UserFactory(email="poison@example.org")
    [delivery_id] = send_email([user])

    worker_dies_holding([delivery_id], settings)
    worker_dies_holding([delivery_id], settings)
    assert counts(delivery_id) == ("pending", 2, 2)
    with caplog.at_level(logging.ERROR, logger="notifications.delivery.poison"):
        worker_dies_holding([delivery_id], settings)

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error, delivery.claim_token) == (
        "failed",
        POISONED,
        None,
    )
    outcomes_and_errors = list(
        DeliveryAttempt.objects.filter(delivery_id=delivery_id)
        .order_by("number")
        .values_list("outcome", "error")
    )
    assert outcomes_and_errors == [
        ("temporary_failure", "worker lost while sending"),
        ("temporary_failure", "worker lost while sending"),
        ("permanent_failure", POISONED),
    ]
    assert poison_log(caplog) == [
        f"delivery {delivery_id} failed for good: its worker died each of the 3 times"
        " it was sent alone"
    ]
    assert "poison@example.org" not in caplog.text
    # Nothing is handed out again.
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    assert outbox.sweep(later).enqueued == 0


@pytest.mark.django_db
def test_a_claim_hands_back_a_suspect_held_with_other_messages_and_sends_the_rest(
    settings, smtp_server
) -> None:
    settings.NOTIFICATION_MAX_RECLAIMS = 2
    ids = send_email([UserFactory(), UserFactory(), UserFactory()])
    suspect = ids[1]
    Delivery.objects.filter(pk=suspect).update(reclaims=2)

    summary = dispatch.send_deliveries(ids)

    assert (summary.claimed, summary.sent) == (2, 2)
    held_back = Delivery.objects.get(pk=suspect)
    # Back in the outbox for the sweeper to publish alone; the claim cost it no attempt.
    assert (held_back.status, held_back.attempts, held_back.enqueued_at) == ("pending", 0, None)
    assert len(smtp_server.messages) == 2

    alone = dispatch.send_deliveries([suspect])

    assert alone.sent == 1
    assert Delivery.objects.get(pk=suspect).status == "sent"


@pytest.mark.django_db
def test_resending_a_poisoned_delivery_gives_it_fresh_tries_still_alone(settings) -> None:
    settings.NOTIFICATION_MAX_RECLAIMS = 1
    [delivery_id] = send_email([UserFactory()])
    worker_dies_holding([delivery_id], settings)
    assert counts(delivery_id) == ("failed", 1, 1)

    assert operations.resend_failed(Delivery.objects.all()) == 1

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, "")
    assert (delivery.reclaims, delivery.reclaims_alone) == (1, 0)


# --- A real worker, killed by the message it sends ------------------------------------------

KILLING_TRANSPORT = "medguard_backend.testing.fatal_messages.WorkerKillingEmailTransport"


@pytest.mark.worker
def test_a_message_that_kills_its_worker_is_failed_and_the_rest_of_its_batch_sent_once(
    start_worker, smtp_server, settings, caplog
) -> None:
    settings.NOTIFICATION_MAX_RECLAIMS = 2
    # Short, but longer than a healthy batch of five local emails takes on a busy machine.
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 3
    users = [UserFactory(username=f"patient{i}", email=f"patient{i}@example.org") for i in range(5)]
    poison = users[2]
    worker = start_worker(
        NOTIFICATION_EMAIL_TRANSPORT=KILLING_TRANSPORT,
        MEDGUARD_KILL_ON_RECIPIENTS=poison.email,
        NOTIFICATION_MAX_RECLAIMS="2",
        **smtp_server.environ(),
    )

    with caplog.at_level(logging.ERROR, logger="notifications.delivery.poison"):
        ids = send_email(users)
        poison_id = Delivery.objects.get(pk__in=ids, recipient__user=poison).pk
        deadline = time.monotonic() + 180
        while Delivery.objects.filter(pk__in=ids, status__in=["pending", "sending"]).exists():
            assert time.monotonic() < deadline, worker.log()
            outbox.sweep()
            time.sleep(0.5)
    time.sleep(2)  # anything sent twice would have arrived by now

    delivery = Delivery.objects.get(pk=poison_id)
    # Twice in its batch, then twice alone.
    assert (delivery.status, delivery.last_error) == ("failed", POISONED)
    assert (delivery.reclaims, delivery.reclaims_alone) == (4, 2)
    assert worker.log().count("exited with 'signal 9 (SIGKILL)'") == 4
    healthy = Delivery.objects.filter(pk__in=ids).exclude(pk=poison_id)
    assert set(healthy.values_list("status", flat=True)) == {"sent"}
    received = Counter(message["To"] for message in smtp_server.messages)
    assert received == {user.email: 1 for user in users if user != poison}
    assert worker.process.poll() is None  # the worker lives on; only its pool process died
    assert poison_log(caplog) == [
        f"delivery {poison_id} failed for good: its worker died each of the 2 times"
        " it was sent alone"
    ]
