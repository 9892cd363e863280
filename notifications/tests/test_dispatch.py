"""Claims, outcomes and their settlement, in the test process: the finish path decides from
the attempts, a failed task hands its claim back at once, and a batch costs a fixed number
of queries."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from medguard_backend.testing.factories import PushDeviceFactory, UserFactory
from notifications.delivery import claims, dispatch, outbox
from notifications.delivery.claims import Accepted
from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, PushTicket
from notifications.services import NotificationService


def send(users, channels):
    notification = NotificationService.create_notification("Hello", "There", "general", "high")
    NotificationService.send_notification_to_users(users, notification, channels=channels)
    return list(Delivery.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.django_db
def test_a_stuck_claim_whose_attempt_says_sent_is_finished_as_sent_not_resent(settings) -> None:
    [delivery_id] = send([UserFactory()], ["email"])
    claims.claim(uuid.uuid4(), Delivery.objects.filter(pk=delivery_id), timezone.now())
    # The provider accepted and the attempt was recorded; the worker died before the rest.
    DeliveryAttempt.objects.create(
        delivery_id=delivery_id,
        number=1,
        outcome=AttemptOutcome.SENT,
        provider_message_id="<kept@medguard>",
        finished_at=timezone.now(),
    )

    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    assert outbox.reclaim_stuck(later) == 1

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.provider_message_id) == ("sent", "<kept@medguard>")
    assert delivery.claim_token is None
    assert list(delivery.attempts_log.values_list("outcome", flat=True)) == ["sent"]


@pytest.mark.django_db
def test_a_stuck_claim_with_an_attempt_started_is_closed_as_lost_and_sent_again(settings) -> None:
    [delivery_id] = send([UserFactory()], ["email"])
    claims.claim(uuid.uuid4(), Delivery.objects.filter(pk=delivery_id), timezone.now())
    DeliveryAttempt.objects.create(delivery_id=delivery_id, number=1)

    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    assert outbox.reclaim_stuck(later) == 1

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claim_token) == ("pending", 1, None)
    attempt = delivery.attempts_log.get()
    assert (attempt.outcome, attempt.error) == ("temporary_failure", "worker lost while sending")


@pytest.mark.django_db
def test_a_released_claim_is_due_again_at_once_with_its_attempt_given_back() -> None:
    ids = send([UserFactory(), UserFactory(), UserFactory()], ["email"])
    token = uuid.uuid4()
    claims.claim(token, Delivery.objects.filter(pk__in=ids), timezone.now())
    # The first one's provider accepted it; the task then failed before recording it.
    [attempt_id] = [DeliveryAttempt.objects.create(delivery_id=ids[0], number=1).pk]

    settled = claims.release(
        token,
        {ids[0]: Accepted((attempt_id,), "<first@medguard>")},
        reason="task failed: X",
        retry_in=5,
    )

    assert (settled.sent, settled.returned) == (1, 2)
    first, *rest = Delivery.objects.order_by("id")
    assert (first.status, first.provider_message_id, first.attempts) == (
        "sent",
        "<first@medguard>",
        1,
    )
    for delivery in rest:
        assert (delivery.status, delivery.attempts, delivery.claim_token) == ("pending", 0, None)
        assert delivery.last_error == "task failed: X"
        assert timedelta(seconds=4) < delivery.not_before - timezone.now() <= timedelta(seconds=5)
        assert delivery.enqueued_at is None
    assert DeliveryAttempt.objects.get().outcome == AttemptOutcome.SENT


@pytest.mark.django_db
def test_a_released_push_that_expo_took_keeps_its_tickets_for_the_receipts_check() -> None:
    user = UserFactory()
    device = PushDeviceFactory(user=user)
    [delivery_id] = send([user], ["push"])
    token = uuid.uuid4()
    claims.claim(token, Delivery.objects.filter(pk=delivery_id), timezone.now())
    attempt_id = DeliveryAttempt.objects.create(delivery_id=delivery_id, number=1).pk

    # Expo answered with a ticket; the task then failed before committing the outcome.
    claims.release(
        token,
        {delivery_id: Accepted((attempt_id,), "t-1", ((delivery_id, device.pk, "t-1"),))},
        reason="task failed: X",
        retry_in=5,
    )

    assert Delivery.objects.get().status == "sent"
    assert list(PushTicket.objects.values_list("delivery_id", "device_id", "ticket_id")) == [
        (delivery_id, device.pk, "t-1")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("users", [2, 8])
def test_an_in_app_batch_costs_the_same_queries_whatever_its_size(users) -> None:
    ids = send(UserFactory.create_batch(users), ["in_app"])

    with CaptureQueriesContext(connection) as captured:
        summary = dispatch.send_deliveries(ids)

    assert summary.sent == users
    # claim, read the claimed, preferences, complete
    assert len(captured) == 4


@pytest.mark.django_db
@pytest.mark.parametrize("users", [1, 4])
def test_an_email_batch_costs_three_queries_per_message_and_a_fixed_few(users, smtp_server) -> None:
    ids = send(UserFactory.create_batch(users), ["email"])

    with CaptureQueriesContext(connection) as captured:
        summary = dispatch.send_deliveries(ids)

    assert summary.sent == users
    smtp_server.wait_for(users)
    statements = [q["sql"].split()[0] for q in captured]
    per_message = statements.count("INSERT") + statements.count("UPDATE") - 1  # minus the claim
    assert statements.count("INSERT") == users  # the attempt, committed before the send
    assert per_message == 3 * users  # the attempt; then the attempt and the delivery together
    # claim, read the claimed, preferences, the deliveries with their users, template overrides
    assert len(captured) - 3 * users - _savepoints(statements) == 5


def _savepoints(statements: list[str]) -> int:
    # A test's transaction turns each atomic block into a savepoint and its release.
    return statements.count("SAVEPOINT") + statements.count("RELEASE")


def terminate_own_connection() -> None:
    config = connection.settings_dict
    with psycopg.connect(
        host=config["HOST"] or "localhost",
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname=config["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_terminate_backend is PostgreSQL's"
)
def test_a_connection_dropped_after_the_provider_accepted_records_it_sent_and_releases_the_rest(
    smtp_server,
) -> None:
    ids = send(UserFactory.create_batch(3), ["email"])
    dropped = []

    def drop_before_recording_the_first_success(execute, sql, params, many, context):
        if not dropped and sql.startswith('UPDATE "notifications_deliveryattempt"'):
            dropped.append(sql)
            terminate_own_connection()
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(drop_before_recording_the_first_success),
        pytest.raises(dispatch.ClaimReleased) as raised,
    ):
        dispatch.send_deliveries(ids, retry_in=3)

    assert raised.value.retry_in == 3
    [message] = smtp_server.wait_for(1)
    first, *rest = Delivery.objects.order_by("id")
    # What the SMTP server accepted is recorded as sent, not left to be sent again...
    assert (first.status, first.provider_message_id) == ("sent", message["Message-ID"])
    assert first.attempts_log.get().outcome == AttemptOutcome.SENT
    # ...and the others are back in the queue at once, not after the stuck timeout.
    for delivery in rest:
        assert (delivery.status, delivery.attempts, delivery.claim_token) == ("pending", 0, None)
        assert delivery.last_error == "task failed: OperationalError"
    assert raised.value.summary.released == 2
