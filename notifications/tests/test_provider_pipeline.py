"""The real pipeline (claim, decide, send, record) with SMS gateways and push services on
loopback: failover, unknown outcomes that are never resent, push tickets and gone devices,
the SMS budget, and a worker killed after the gateway's 2xx."""

from __future__ import annotations

import datetime
import time

import pytest
import time_machine
from django.db import OperationalError, connection

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from medguard_backend.testing.provider_answers import (
    clickatell_message_error,
    clickatell_refusing,
    expo_ticket_error,
    point_gateways_at,
)
from medguard_backend.testing.providers import HANG, Answer
from notifications.channels.sms.failover import reset_circuits
from notifications.delivery import outbox
from notifications.delivery.dispatch import ClaimReleased, send_deliveries
from notifications.models import Delivery, DeliveryAttempt, PushDevice, PushTicket
from notifications.receipts.outcomes import check_push_receipts
from notifications.services import NotificationService

# 10:00 in Johannesburg: outside anyone's quiet hours.
MORNING = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def providers(settings, provider_server):
    reset_circuits()
    settings.SMS_BACKENDS = ["clickatell", "bulksms"]
    point_gateways_at(settings, provider_server.url)
    settings.EXPO_API_URL = provider_server.url
    settings.PROVIDER_READ_TIMEOUT_SECONDS = 1
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


def patients(count: int, *, phone_from: int = 821000001):
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


@pytest.mark.django_db
def test_sms_fail_over_to_bulksms_and_each_delivery_records_who_took_it(provider_server):
    ids = send(patients(3), "sms")
    # Clickatell takes the batch's three messages in one request and answers each: the
    # first accepted, the second an invalid number (failed, not sent elsewhere), the third
    # refused for its own routing (sent on through BulkSMS, same key).
    provider_server.route(
        "POST",
        "/v1/message",
        clickatell_refusing(
            {"27821000002": (105, "Invalid destination"), "27821000003": (114, "No route")}
        ),
    )

    summary = send_deliveries(ids)

    assert (summary.sent, summary.failed) == (2, 1)
    first, second, third = Delivery.objects.filter(id__in=ids).order_by("id")
    assert (first.status, first.provider) == ("sent", "clickatell")
    assert (second.status, second.last_error) == (
        "failed",
        "clickatell 105: invalid destination address",
    )
    assert (third.status, third.provider) == ("sent", "bulksms")
    for delivery in (first, third):
        [attempt] = delivery.attempts_log.all()
        assert (attempt.outcome, attempt.provider, attempt.provider_message_id) == (
            "sent",
            delivery.provider,
            delivery.provider_message_id,
        )
    [clickatell] = provider_server.requests_to("/v1/message")
    assert [m["clientMessageId"] for m in clickatell.json()["messages"]] == [
        f"delivery-{pk}" for pk in ids
    ]
    [bulksms] = provider_server.requests_to("/v1/messages")
    assert [m["userSuppliedId"] for m in bulksms.json()] == [f"delivery-{third.pk}"]


@pytest.mark.django_db
def test_a_whole_sms_request_refused_with_5xx_fails_over_to_bulksms_in_one_request(
    provider_server,
):
    ids = send(patients(3), "sms")
    provider_server.script("/v1/message", Answer(503, "busy"))

    summary = send_deliveries(ids)

    assert summary.sent == 3
    assert set(Delivery.objects.filter(id__in=ids).values_list("provider", flat=True)) == {
        "bulksms"
    }
    [request] = provider_server.requests_to("/v1/messages")
    assert [m["userSuppliedId"] for m in request.json()] == [f"delivery-{pk}" for pk in ids]


@pytest.mark.django_db
def test_a_request_of_many_sms_without_an_answer_leaves_each_unknown_never_resent(
    provider_server,
):
    ids = send(patients(3), "sms")
    provider_server.script("/v1/message", HANG)

    send_deliveries(ids)

    rows = Delivery.objects.filter(id__in=ids)
    assert {(d.status, d.provider) for d in rows} == {("unknown", "clickatell")}
    assert len(provider_server.requests_to("/v1/message")) == 1
    assert provider_server.requests_to("/v1/messages") == []


@pytest.mark.django_db
def test_sending_a_batch_takes_the_same_queries_for_three_or_six_sms(provider_server):
    small, large = send(patients(3), "sms"), send(patients(6, phone_from=821000101), "sms")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as three:
        send_deliveries(small)
    with CaptureQueriesContext(connection) as six:
        send_deliveries(large)

    assert len(three.captured_queries) == len(six.captured_queries)
    assert Delivery.objects.filter(status="sent").count() == 9


@pytest.mark.django_db
def test_an_invalid_number_fails_at_once_and_no_other_gateway_is_tried(provider_server):
    [delivery_id] = send(patients(1), "sms")
    provider_server.script("/v1/message", clickatell_message_error(105, "Invalid destination"))

    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.last_error) == (
        "failed",
        "clickatell 105: invalid destination address",
    )
    assert provider_server.requests_to("/v1/messages") == []


@pytest.mark.django_db
def test_a_send_without_an_answer_is_unknown_and_never_resent_by_the_sweeper(
    provider_server, settings
):
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 1
    [delivery_id] = send(patients(1), "sms")
    provider_server.script("/v1/message", HANG)

    send_deliveries([delivery_id])
    time.sleep(1.5)
    outbox.sweep()
    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.provider) == ("unknown", "clickatell")
    [attempt] = DeliveryAttempt.objects.filter(delivery_id=delivery_id)
    assert attempt.outcome == "unknown"
    assert len(provider_server.requests_to("/v1/message")) == 1
    assert provider_server.requests_to("/v1/messages") == []


@pytest.mark.django_db
def test_a_send_without_an_answer_stays_unknown_when_recording_it_fails(provider_server, settings):
    # A double fault: the gateway gives no answer, then the database fails the batch's
    # commit. The task's release must record what it knows (the request went out), not
    # hand the delivery back to be sent again blindly.
    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 1
    [delivery_id] = send(patients(1), "sms")
    provider_server.script("/v1/message", HANG)
    failed = []

    def fail_the_batch_commit(execute, sql, params, many, context):
        if not failed and sql.startswith('UPDATE "notifications_deliveryattempt" AS'):
            failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with (
        connection.execute_wrapper(fail_the_batch_commit),
        pytest.raises(ClaimReleased),
    ):
        send_deliveries([delivery_id], retry_in=0)
    assert failed
    time.sleep(1.5)
    outbox.sweep()
    send_deliveries([delivery_id])

    delivery = Delivery.objects.get(pk=delivery_id)
    assert (delivery.status, delivery.provider, delivery.claim_token) == (
        "unknown",
        "clickatell",
        None,
    )
    [attempt] = DeliveryAttempt.objects.filter(delivery_id=delivery_id)
    assert attempt.outcome == "unknown"
    assert len(provider_server.requests_to("/v1/message")) == 1
    assert provider_server.requests_to("/v1/messages") == []


@pytest.mark.django_db
def test_push_tickets_are_stored_and_gone_devices_deactivated_now_and_by_receipts(
    provider_server,
):
    first, second = UserFactory(), UserFactory()
    kept = PushDeviceFactory(user=first)
    gone_now = PushDeviceFactory(user=first)
    gone_later = PushDeviceFactory(user=second)
    ids = send([first, second], "push")
    # Expo answers ticket by ticket in the order of the request: deliveries by id (the order
    # the database gave the bulk insert), each user's devices by id.
    ticket_for = {
        kept.pk: {"status": "ok", "id": "ticket-kept"},
        gone_now.pk: expo_ticket_error("DeviceNotRegistered"),
        gone_later.pk: {"status": "ok", "id": "ticket-later"},
    }
    users_in_order = (
        Delivery.objects.filter(id__in=ids)
        .order_by("id")
        .values_list("recipient__user_id", flat=True)
    )
    request_order = [
        device.pk
        for user_id in users_in_order
        for device in PushDevice.objects.filter(user_id=user_id).order_by("id")
    ]
    provider_server.script(
        "/--/api/v2/push/send",
        Answer(200, {"data": [ticket_for[device] for device in request_order]}),
    )

    summary = send_deliveries(ids)

    assert summary.sent == 2
    assert set(PushTicket.objects.values_list("ticket_id", "device_id")) == {
        ("ticket-kept", kept.pk),
        ("ticket-later", gone_later.pk),
    }
    assert not PushDevice.objects.get(pk=gone_now.pk).active
    provider_server.script(
        "/--/api/v2/push/getReceipts",
        Answer(
            200,
            {
                "data": {
                    "ticket-kept": {"status": "ok"},
                    "ticket-later": expo_ticket_error("DeviceNotRegistered"),
                }
            },
        ),
    )
    with time_machine.travel(MORNING + datetime.timedelta(minutes=20), tick=False):
        assert check_push_receipts() == {"checked": 2, "gone": 1}
    assert not PushDevice.objects.get(pk=gone_later.pk).active
    assert PushDevice.objects.get(pk=kept.pk).active
    receipts = dict(
        Delivery.objects.filter(id__in=ids).values_list("recipient__user_id", "receipt_status")
    )
    assert receipts == {first.pk: "delivered", second.pk: "undelivered"}


@pytest.mark.django_db
def test_sms_over_the_daily_budget_waits_for_tomorrow_with_the_reason(provider_server, settings):
    settings.SMS_DAILY_LIMIT_PER_USER = 1
    [user] = patients(1)
    first = send([user], "sms")
    second = send([user], "sms")

    send_deliveries(first + second)

    sent, held = Delivery.objects.get(pk=first[0]), Delivery.objects.get(pk=second[0])
    assert sent.status == "sent"
    assert (held.status, held.last_error, held.attempts) == (
        "pending",
        "SMS budget for the day reached",
        0,
    )
    assert held.not_before == datetime.datetime(2026, 11, 30, 22, 0, tzinfo=datetime.UTC)
    assert len(provider_server.requests_to("/v1/message")) == 1
