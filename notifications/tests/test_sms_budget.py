"""The daily SMS budget, counted from the deliveries before a batch is sent."""

from __future__ import annotations

import datetime

import pytest

from medguard_backend.testing.factories import UserFactory
from notifications.channels.sms.budget import over_budget
from notifications.models import Delivery, Notification, NotificationRecipient

pytestmark = pytest.mark.django_db

# 09:00 in Johannesburg.
NOW = datetime.datetime(2026, 11, 30, 7, 0, tzinfo=datetime.UTC)
TOMORROW = datetime.datetime(2026, 11, 30, 22, 0, tzinfo=datetime.UTC)


def sms(user, status: str = "pending", sent_at=None) -> int:
    notification = Notification.objects.create(title="Reminder")
    recipient = NotificationRecipient.objects.create(notification=notification, user=user)
    return Delivery.objects.create(
        recipient=recipient, channel="sms", status=status, sent_at=sent_at
    ).pk


def test_a_user_at_the_daily_limit_waits_until_midnight_in_johannesburg(settings):
    settings.SMS_DAILY_LIMIT_PER_USER = 2
    settings.SMS_DAILY_LIMIT_TOTAL = 0
    busy, quiet = UserFactory(), UserFactory()
    sms(busy, "sent", NOW - datetime.timedelta(hours=1))
    # Yesterday's message (23:30 in Johannesburg) does not count.
    sms(busy, "sent", datetime.datetime(2026, 11, 29, 21, 30, tzinfo=datetime.UTC))
    batch = [(sms(busy), busy.pk), (sms(busy), busy.pk), (sms(quiet), quiet.pk)]

    over, opens = over_budget(batch, NOW)

    assert over == {batch[1][0]}
    assert opens == TOMORROW


def test_the_global_limit_counts_every_user_and_messages_being_sent(settings):
    settings.SMS_DAILY_LIMIT_PER_USER = 0
    settings.SMS_DAILY_LIMIT_TOTAL = 3
    users = [UserFactory() for _ in range(4)]
    sms(users[0], "sent", NOW)
    in_flight = Delivery.objects.get(pk=sms(users[1], "sending"))
    Delivery.objects.filter(pk=in_flight.pk).update(claimed_at=NOW)
    batch = [(sms(user), user.pk) for user in users[2:]]

    over, _opens = over_budget(batch, NOW)

    assert over == {batch[1][0]}


def test_no_limits_means_nothing_is_held_back(settings):
    settings.SMS_DAILY_LIMIT_PER_USER = 0
    settings.SMS_DAILY_LIMIT_TOTAL = 0
    user = UserFactory()

    assert over_budget([(sms(user), user.pk)], NOW)[0] == set()
