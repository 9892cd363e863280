"""GET /metrics: who may read it, the backlog measured at scrape time, and counters that
move when a real worker sends, fails or is late."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from medguard_backend.metrics.deliveries import failure_reason, observe_batch
from medguard_backend.testing.factories import UserFactory
from notifications.delivery import dispatch
from notifications.models import Delivery, DeliveryStatus
from notifications.services import NotificationService

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_are_refused_to_an_address_outside_the_allowed_networks(client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 403
    assert b"medguard_" not in response.content


@pytest.mark.django_db
def test_metrics_are_served_for_the_right_bearer_token_only(client: Client, settings) -> None:
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    settings.METRICS_ALLOWED_NETWORKS = []

    refused = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    allowed = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert allowed.status_code == 200
    assert b"medguard_outbox_deliveries" in allowed.content


@pytest.mark.django_db
def test_the_outbox_backlog_is_counted_by_state_when_scraped(client: Client, settings) -> None:
    users = UserFactory.create_batch(6)
    notification = NotificationService.create_notification("Hello", "All", "general", "low")
    NotificationService.send_notification_to_users(users, notification, channels=["email"])
    now = timezone.now()
    ids = list(Delivery.objects.filter(channel="email").order_by("id").values_list("id", flat=True))
    due, deferred, retrying, sending, stuck, sent = ids
    Delivery.objects.filter(pk=due).update(not_before=now - timedelta(seconds=90))
    Delivery.objects.filter(pk=deferred).update(not_before=now + timedelta(hours=8))
    Delivery.objects.filter(pk=retrying).update(not_before=now + timedelta(minutes=2), attempts=1)
    Delivery.objects.filter(pk=sending).update(status=DeliveryStatus.SENDING, claimed_at=now)
    stuck_at = now - timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 60)
    Delivery.objects.filter(pk=stuck).update(status=DeliveryStatus.SENDING, claimed_at=stuck_at)
    Delivery.objects.filter(pk=sent).update(status=DeliveryStatus.SENT, sent_at=now)

    samples = scrape(client)

    backlog = {
        state: value(samples, "medguard_outbox_deliveries", state=state)
        for state in ("pending", "deferred", "retrying", "sending", "stuck")
    }
    assert backlog == {"pending": 1, "deferred": 1, "retrying": 1, "sending": 2, "stuck": 1}
    assert 90 <= value(samples, "medguard_outbox_oldest_due_age_seconds") < 120
    assert value(samples, "medguard_broker_up") == 1
    for queue in ("celery", "notifications", "medications"):
        assert ("medguard_queue_messages", (("queue", queue),)) in samples


@pytest.mark.django_db
def test_api_request_latency_is_recorded_by_route_not_by_path(client: Client) -> None:
    before = scrape(client)
    assert client.post("/api/notifications/12345/mark-read/").status_code == 401
    assert client.post("/api/notifications/67890/mark-read/").status_code == 401
    after = scrape(client)

    route = "api/notifications/<int:notification_id>/mark-read/"
    labels = {"method": "POST", "route": route, "status": "4xx"}
    count = "medguard_http_request_duration_seconds_count"
    assert value(after, count, **labels) - value(before, count, **labels) == 2
    assert not any("12345" in str(key) for key in after)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("451 4.3.0 try again later", "451 4.3.0 try again later"),
        ("invalid phone number", "invalid phone number"),
        ("unexpected error: KeyError", "unexpected error"),
        ("", "unknown"),
    ],
)
def test_failure_reasons_become_short_labels_without_details(error: str, reason: str) -> None:
    assert failure_reason(error) == reason


def wait_for_metrics(
    client: Client, condition: Callable[[Samples], bool], timeout: float = 90
) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(client)
        if condition(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.5)


@pytest.mark.worker
def test_delivery_metrics_move_when_a_worker_sends_fails_and_is_late(
    start_worker, smtp_server
) -> None:
    client = Client()
    late, refused = UserFactory(), UserFactory()
    smtp_server.refuse_recipients.add(refused.email)
    before = scrape(client)
    start_worker(**smtp_server.environ())

    NotificationService.send_medication_reminder(
        user=late,
        medication_name="Aspirin",
        dosage="100mg",
        dose_time=timezone.now() - timedelta(minutes=3),
        channels=["in_app", "email"],
    )
    notification = NotificationService.create_notification("Hello", "All", "general", "low")
    NotificationService.send_notification_to_users([refused], notification, channels=["email"])

    def delta(name: str, samples: Samples, **labels: str) -> float:
        return value(samples, name, **labels) - value(before, name, **labels)

    after = wait_for_metrics(
        client,
        lambda s: (
            delta("medguard_deliveries_total", s, channel="email", status="failed") >= 1
            and delta("medguard_deliveries_total", s, channel="email", status="sent") >= 1
        ),
    )
    time.sleep(2)  # anything counted twice would show by now
    after = scrape(client)

    assert delta("medguard_deliveries_total", after, channel="email", status="sent") == 1
    assert delta("medguard_deliveries_total", after, channel="in_app", status="sent") == 1
    assert delta("medguard_deliveries_total", after, channel="email", status="failed") == 1
    attempts = "medguard_delivery_attempts_total"
    assert delta(attempts, after, channel="email", outcome="sent") == 1
    assert delta(attempts, after, channel="email", outcome="permanent_failure") == 1
    [failure] = [
        key
        for key in after
        if key[0] == "medguard_delivery_failures_total" and delta(key[0], after, **dict(key[1]))
    ]
    assert dict(failure[1])["permanent"] == "true"
    assert dict(failure[1])["reason"] == "smtp 550 5.1.1 recipient refused"
    assert refused.email not in str(after)
    assert delta("medguard_provider_latency_seconds_count", after, channel="email") == 2

    lateness = "medguard_reminder_lateness_seconds"
    for channel in ("in_app", "email"):
        assert delta(f"{lateness}_count", after, channel=channel) == 1
        assert 180 <= delta(f"{lateness}_sum", after, channel=channel) < 240
        assert delta(f"{lateness}_bucket", after, channel=channel, le="120.0") == 0
        assert delta(f"{lateness}_bucket", after, channel=channel, le="300.0") == 1


@pytest.mark.django_db
def test_a_batch_is_counted_from_one_read_whatever_its_size(
    client: Client, smtp_server, django_assert_num_queries
) -> None:
    users = UserFactory.create_batch(3)
    for user in users:
        NotificationService.send_medication_reminder(
            user=user,
            medication_name="Aspirin",
            dosage="100mg",
            dose_time=timezone.now() - timedelta(seconds=45),
            channels=["in_app", "email"],
        )
    smtp_server.fail_data_with = "451 4.3.0 try again later"
    ids = list(Delivery.objects.values_list("id", flat=True))
    before = scrape(client)
    started = timezone.now()
    summary = dispatch.send_deliveries(ids).as_dict()

    with django_assert_num_queries(1):  # the deliveries, each with its attempt
        observe_batch(ids, started, summary)
    # A repeat of the task that claimed nothing reads nothing and counts nothing.
    with django_assert_num_queries(0):
        observe_batch(ids, timezone.now(), {"claimed": 0})

    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("medguard_deliveries_total", channel="in_app", status="sent") == 3
    lateness = "medguard_reminder_lateness_seconds"
    assert delta(f"{lateness}_count", channel="in_app") == 3
    assert delta(f"{lateness}_bucket", channel="in_app", le="30.0") == 0
    assert delta(f"{lateness}_bucket", channel="in_app", le="60.0") == 3
    assert 135 <= delta(f"{lateness}_sum", channel="in_app") < 180
    # The emails wait to be retried (pending again, no longer claimed): not final, so no
    # delivery counted, but their attempts and failures are.
    assert Delivery.objects.filter(channel="email", status=DeliveryStatus.PENDING).count() == 3
    assert delta("medguard_deliveries_total", channel="email", status="pending") == 0
    assert (
        delta("medguard_delivery_attempts_total", channel="email", outcome="temporary_failure") == 3
    )
    failures = "medguard_delivery_failures_total"
    assert (
        delta(failures, channel="email", reason="smtp 451 4.3.0 message refused", permanent="false")
        == 3
    )
    assert delta("medguard_provider_latency_seconds_count", channel="email") == 3
