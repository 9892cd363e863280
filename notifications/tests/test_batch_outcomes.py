"""A provider batch in the real pipeline against loopback providers: its outcomes, whatever
they are, cost a fixed number of statements; its requests are in flight together; and each
message reaches the provider once."""

from __future__ import annotations

import datetime
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from medguard_backend.testing.provider_answers import twilio_error
from medguard_backend.testing.providers import DROP, Answer
from notifications.channels.sms.failover import reset_circuits
from notifications.delivery import claims, outcomes, transitions
from notifications.delivery.dispatch import send_deliveries
from notifications.models import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.services import NotificationService

# 10:00 in Johannesburg: outside anyone's quiet hours.
MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def providers(settings, provider_server):
    reset_circuits()
    settings.SMS_BACKENDS = ["clickatell"]
    settings.CLICKATELL_API_KEY = "ct-key"
    settings.CLICKATELL_API_URL = provider_server.url
    settings.EXPO_API_URL = provider_server.url
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 2
    settings.SMS_DAILY_LIMIT_PER_USER = 0
    settings.SMS_DAILY_LIMIT_TOTAL = 0
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.GatewaySMSTransport",
        "push": "notifications.channels.push.ProviderPushTransport",
    }
    with time_machine.travel(MORNING, tick=True):
        yield
    reset_circuits()


def patients(count: int, *, phone_from: int) -> list:
    users = []
    for n in range(count):
        user = UserFactory(phone=f"+27{phone_from + n}")
        PreferencesFactory(user=user, sms_notifications_enabled=True)
        users.append(user)
    return users


def send(users, channel: str) -> list[int]:
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users(users, notification, channels=[channel])
    return list(
        Delivery.objects.filter(recipient__notification=notification, channel=channel)
        .order_by("id")
        .values_list("id", flat=True)
    )


def sms_keys(provider_server) -> list[str]:
    return [
        message["clientMessageId"]
        for r in provider_server.requests_to("/v1/message")
        for message in r.json()["messages"]
    ]


def twilio_keys(provider_server) -> list[str]:
    # The delivery key rides in the status callback's query (Twilio takes no key).
    return [
        parse_qs(urlsplit(r.form()["StatusCallback"]).query)["reference"][0]
        for r in provider_server.requests_to(TWILIO)
    ]


TWILIO = "/2010-04-01/Accounts/"


def use_twilio(settings, provider_server) -> None:
    """Twilio takes one message per request: a batch keeps many requests in flight."""
    settings.SMS_BACKENDS = ["twilio"]
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "tw-token"
    settings.TWILIO_FROM = "+15005550006"
    settings.TWILIO_API_URL = provider_server.url
    settings.SITE_BASE_URL = "https://medguard.example"
    settings.PROVIDER_WEBHOOK_SECRET = "hook-secret"


def statements_writing(captured: CaptureQueriesContext, table: str) -> int:
    return sum(1 for q in captured if q["sql"].startswith(f'UPDATE "{table}" AS'))


@pytest.mark.django_db
@pytest.mark.parametrize(("size", "phone_from"), [(4, 821000001), (16, 821000101)])
def test_a_batch_with_every_outcome_records_them_in_the_same_statements_whatever_its_size(
    provider_server, settings, size, phone_from
):
    use_twilio(settings, provider_server)
    ids = send(patients(size, phone_from=phone_from), "sms")
    # One answer of each kind, the rest taken: a refusal that is retried, one that fails
    # for good, a connection dropped after the request (unknown, never resent).
    provider_server.script(
        TWILIO,
        Answer(503, "busy"),
        twilio_error(400, 21211, "The 'To' number is not a valid phone number."),
        DROP,
    )

    with CaptureQueriesContext(connection) as captured:
        summary = send_deliveries(ids)

    statuses = list(Delivery.objects.filter(id__in=ids).values_list("status", flat=True))
    assert sorted(statuses) == sorted(["pending", "failed", "unknown"] + ["sent"] * (size - 3))
    assert (summary.sent, summary.retrying, summary.failed) == (size - 3, 1, 1)
    outcomes_by_delivery = dict(DeliveryAttempt.objects.values_list("delivery_id", "outcome"))
    assert sorted(outcomes_by_delivery.values()) == sorted(
        ["temporary_failure", "permanent_failure", "unknown"] + ["sent"] * (size - 3)
    )
    # Every attempt closed, every delivery moved, by one statement each.
    assert statements_writing(captured, "notifications_deliveryattempt") == 1
    assert statements_writing(captured, "notifications_delivery") == 1
    # claim, read the claimed, preferences, the deliveries with their users, template
    # overrides, the attempts' INSERT; a savepoint, the two outcome UPDATEs, its release
    assert len(captured) == 10
    assert sorted(twilio_keys(provider_server)) == sorted(f"delivery-{pk}" for pk in ids)


@pytest.mark.django_db
def test_an_outcome_is_not_written_over_a_claim_settled_by_someone_else() -> None:
    [user] = UserFactory.create_batch(1)
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users([user], notification, channels=["in_app"])
    delivery = Delivery.objects.get()
    ours, theirs = uuid.uuid4(), uuid.uuid4()
    claims.claim(theirs, Delivery.objects.all(), timezone.now())
    [attempt] = outcomes.start_attempts([(delivery.pk, 1)])

    changed = transitions.write(
        ours, [outcomes.sent(delivery.pk, attempt, "clickatell", "ct-1")], timezone.now()
    )

    assert changed == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claim_token) == (DeliveryStatus.SENDING, theirs)
    # What the provider did stays on the attempt, for the settlement to read.
    assert DeliveryAttempt.objects.get(pk=attempt).outcome == AttemptOutcome.SENT


@pytest.mark.django_db
def test_a_batch_of_sms_keeps_requests_in_flight_together_and_each_arrives_once(
    provider_server, settings
):
    use_twilio(settings, provider_server)
    settings.PROVIDER_MAX_IN_FLIGHT = 8
    provider_server.delay = 0.2
    ids = send(patients(24, phone_from=821000201), "sms")

    started = time.monotonic()
    summary = send_deliveries(ids)
    elapsed = time.monotonic() - started

    assert summary.sent == 24
    assert 1 < provider_server.peak_in_flight <= 8
    assert sorted(twilio_keys(provider_server)) == sorted(f"delivery-{pk}" for pk in ids)
    assert set(Delivery.objects.filter(id__in=ids).values_list("status", flat=True)) == {"sent"}
    # One after the other they would take 24 x 0.2 s.
    assert elapsed < 24 * 0.2 / 2


@pytest.mark.django_db
def test_a_batch_of_sms_goes_to_clickatell_in_requests_of_100_in_flight_together(
    provider_server,
):
    provider_server.delay = 0.3
    ids = send(patients(250, phone_from=821000301), "sms")

    summary = send_deliveries(ids)

    assert summary.sent == 250
    requests = provider_server.requests_to("/v1/message")
    assert sorted(len(r.json()["messages"]) for r in requests) == [50, 100, 100]
    assert provider_server.peak_in_flight == 3
    assert sorted(sms_keys(provider_server)) == sorted(f"delivery-{pk}" for pk in ids)
    rows = Delivery.objects.filter(id__in=ids)
    assert len({d.provider_message_id for d in rows}) == 250
    assert {(d.status, d.provider) for d in rows} == {("sent", "clickatell")}


@pytest.mark.django_db
def test_a_batch_of_pushes_sends_its_expo_chunks_together_and_each_device_gets_one(
    provider_server,
):
    provider_server.delay = 0.3
    users = UserFactory.create_batch(250)
    devices = [PushDeviceFactory(user=user) for user in users]
    ids = send(users, "push")

    summary = send_deliveries(ids)

    assert summary.sent == 250
    chunks = provider_server.requests_to("/--/api/v2/push/send")
    assert sorted(len(chunk.json()) for chunk in chunks) == [50, 100, 100]
    assert provider_server.peak_in_flight == 3
    tokens = [message["to"] for chunk in chunks for message in chunk.json()]
    assert sorted(tokens) == sorted(str(device.token) for device in devices)
