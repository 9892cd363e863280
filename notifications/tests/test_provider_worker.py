"""SMS through real Celery worker processes to a loopback gateway, including the one
duplicate window: a worker killed after the gateway's 2xx and before the commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, UserFactory
from notifications.delivery import outbox
from notifications.models import Delivery, PushTicket
from notifications.services import NotificationService

pytestmark = pytest.mark.worker


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def gateway_environment(provider_server) -> dict[str, str]:
    return {
        "SMS_BACKENDS": "clickatell",
        "CLICKATELL_API_KEY": "ct-key",
        "CLICKATELL_API_URL": provider_server.url,
        "SMS_DAILY_LIMIT_PER_USER": "0",
    }


def sms_patient():
    user = UserFactory(phone="+27821234567")
    PreferencesFactory(user=user, sms_notifications_enabled=True, quiet_hours_enabled=False)
    return user


def statuses() -> list[str]:
    return list(Delivery.objects.filter(channel="sms").values_list("status", flat=True))


def test_a_reminder_sms_goes_through_a_worker_to_the_gateway_once(start_worker, provider_server):
    user = sms_patient()
    start_worker(**gateway_environment(provider_server))

    NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", channels=["sms"]
    )
    wait_until(lambda: statuses() == ["sent"], what="the SMS recorded as sent")
    time.sleep(1)

    [request] = provider_server.requests_to("/v1/message")
    [message] = request.json()["messages"]
    delivery = Delivery.objects.get(channel="sms")
    assert message["to"] == "27821234567"
    assert message["clientMessageId"] == f"delivery-{delivery.pk}"
    assert (delivery.provider, delivery.provider_message_id) == (
        "clickatell",
        delivery.attempts_log.get().provider_message_id,
    )


def test_a_worker_killed_after_the_gateways_2xx_resends_under_the_same_key(
    start_worker, provider_server, settings
):
    user = sms_patient()
    worker = start_worker(
        MEDGUARD_FAULT_POINT="after_send:1", **gateway_environment(provider_server)
    )
    NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", channels=["sms"]
    )
    wait_until(lambda: provider_server.requests_to("/v1/message"), what="the first send")
    wait_until(lambda: worker.process.poll() is not None, what="the worker killed")
    assert statuses() == ["sending"]

    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS + 1)
    assert outbox.sweep(now=later).reclaimed == 1
    start_worker(**gateway_environment(provider_server))
    wait_until(lambda: statuses() == ["sent"], what="the SMS recorded as sent")

    first, second = provider_server.requests_to("/v1/message")
    keys = {r.json()["messages"][0]["clientMessageId"] for r in (first, second)}
    assert keys == {f"delivery-{Delivery.objects.get(channel='sms').pk}"}


def test_a_worker_killed_right_after_the_push_outcome_commit_keeps_its_expo_ticket(
    start_worker, provider_server
):
    # The outcome and Expo's ticket commit together: a worker killed just after that commit
    # leaves the push sent AND its ticket stored (so its receipt is still asked for), and
    # nothing is sent again. With the ticket in a commit of its own, it was lost here.
    user = UserFactory()
    PreferencesFactory(user=user, quiet_hours_enabled=False)
    device = PushDeviceFactory(user=user)
    worker = start_worker(
        MEDGUARD_FAULT_POINT="after_commit:1",
        EXPO_API_URL=provider_server.url,
        NOTIFICATION_PUSH_TRANSPORT="notifications.channels.push.ProviderPushTransport",
    )
    NotificationService.send_medication_reminder(
        user=user, medication_name="Aspirin", dosage="100mg", channels=["push"]
    )
    wait_until(lambda: worker.process.poll() is not None, what="the worker killed")

    delivery = Delivery.objects.get(channel="push")
    assert delivery.status == "sent"
    [ticket] = PushTicket.objects.filter(delivery=delivery)
    assert ticket.device_id == device.pk
    assert ticket.ticket_id == delivery.provider_message_id
    assert outbox.sweep().reclaimed == 0
    assert len(provider_server.requests_to("/--/api/v2/push/send")) == 1
