"""The email digest goes through the same decide/claim/finish path as every delivery: the
preferences are read again when it is sent, so what the user changed after an email was
deferred into their digest counts. Real SMTP server on loopback, frozen clocks."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from notifications.delivery.digests import send_email_digests
from notifications.models import AttemptOutcome, Delivery, DeliveryStatus
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db

SAST = ZoneInfo("Africa/Johannesburg")
EVENING_BEFORE = datetime.datetime(2026, 3, 9, 18, 0, tzinfo=SAST)
MORNING = datetime.datetime(2026, 3, 10, 8, 0, tzinfo=SAST)


@pytest.fixture
def deferred_into_morning_digest():
    """A patient who reads email in the morning digest, and a low-stock email deferred into
    it the evening before."""
    user = UserFactory()
    prefs = PreferencesFactory(user=user, email_time_preference="morning")
    with time_machine.travel(EVENING_BEFORE, tick=False):
        notification = NotificationService.create_notification(
            "Running low", "Five tablets left", "stock", "medium"
        )
        NotificationService.send_notification_to_user(user, notification, channels=["email"])
    delivery = Delivery.objects.get(recipient__user=user)
    assert (delivery.status, delivery.digest, delivery.not_before) == ("pending", True, MORNING)
    return user, prefs, delivery


def test_a_due_digest_is_sent_as_one_email_and_recorded_with_its_attempt(
    deferred_into_morning_digest, smtp_server
) -> None:
    user, _, delivery = deferred_into_morning_digest

    with time_machine.travel(MORNING, tick=False):
        summary = send_email_digests([user.pk])

    assert (summary.claimed, summary.sent) == (1, 1)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == user.email
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_message_id == message["Message-ID"]
    [attempt] = delivery.attempts_log.all()
    assert (attempt.outcome, attempt.provider_message_id) == (
        AttemptOutcome.SENT,
        message["Message-ID"],
    )


def test_a_digest_respects_a_category_switched_off_after_deferral(
    deferred_into_morning_digest, smtp_server
) -> None:
    user, prefs, delivery = deferred_into_morning_digest
    prefs.stock_alerts_enabled = False
    prefs.save()

    with time_machine.travel(MORNING, tick=False):
        summary = send_email_digests([user.pk])

    assert (summary.claimed, summary.sent, summary.skipped) == (1, 0, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("skipped", "category_disabled")
    assert not delivery.attempts_log.exists()
    assert smtp_server.messages == []


def test_a_digest_waits_for_quiet_hours_added_after_deferral_then_goes_out_once(
    deferred_into_morning_digest, smtp_server
) -> None:
    user, prefs, delivery = deferred_into_morning_digest
    prefs.quiet_hours_enabled = True
    prefs.quiet_hours_start = datetime.time(7, 0)
    prefs.quiet_hours_end = datetime.time(9, 30)
    prefs.save()

    with time_machine.travel(MORNING, tick=False):
        summary = send_email_digests([user.pk])
    assert (summary.claimed, summary.sent, summary.deferred) == (1, 0, 1)
    delivery.refresh_from_db()
    release = MORNING.replace(hour=9, minute=30)
    assert (delivery.status, delivery.not_before, delivery.digest) == ("pending", release, True)
    assert delivery.attempts == 0  # a deferral uses up no attempt
    assert smtp_server.messages == []

    with time_machine.travel(release, tick=False):
        assert send_email_digests([user.pk]).sent == 1
    [message] = smtp_server.wait_for(1)
    assert message["To"] == user.email
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
