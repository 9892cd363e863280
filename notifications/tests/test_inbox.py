"""A recipient's state only moves forward: unread -> read -> acknowledged, or dismissed."""

from __future__ import annotations

import pytest

from medguard_backend.testing.factories import UserFactory
from notifications.inbox import states as inbox
from notifications.models import NotificationRecipient, RecipientStatus
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory()


def notify(user, *, require_acknowledgment: bool = False):
    return NotificationService.create_notification(
        "Dose changed",
        "Your dose changed",
        "medication",
        "high",
        target_users=[user],
        require_acknowledgment=require_acknowledgment,
    )


def test_mark_read_records_when_and_is_idempotent(user) -> None:
    notification = notify(user)

    first = inbox.mark_read(user.pk, notification.pk)
    second = inbox.mark_read(user.pk, notification.pk)

    assert first.status == RecipientStatus.READ
    assert first.read_at is not None
    assert second.read_at == first.read_at


def test_acknowledging_marks_read_too_and_never_goes_back(user) -> None:
    notification = notify(user, require_acknowledgment=True)

    acknowledged = inbox.acknowledge(user.pk, notification.pk)
    after_read = inbox.mark_read(user.pk, notification.pk)

    assert acknowledged.status == RecipientStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_at is not None
    assert acknowledged.read_at == acknowledged.acknowledged_at
    assert after_read.status == RecipientStatus.ACKNOWLEDGED


def test_acknowledging_a_notification_that_does_not_ask_is_refused(user) -> None:
    notification = notify(user)

    with pytest.raises(inbox.StateChangeRefused, match="does not ask"):
        inbox.acknowledge(user.pk, notification.pk)
    assert NotificationRecipient.objects.get().status == RecipientStatus.UNREAD


def test_dismissing_one_that_needs_acknowledgment_is_refused_until_acknowledged(user) -> None:
    notification = notify(user, require_acknowledgment=True)

    with pytest.raises(inbox.StateChangeRefused, match="Acknowledge"):
        inbox.dismiss(user.pk, notification.pk)
    inbox.acknowledge(user.pk, notification.pk)
    dismissed = inbox.dismiss(user.pk, notification.pk)

    assert dismissed.status == RecipientStatus.DISMISSED
    assert dismissed.acknowledged_at is not None


def test_a_dismissed_notification_stays_dismissed(user) -> None:
    notification = notify(user)
    dismissed = inbox.dismiss(user.pk, notification.pk)

    again = inbox.mark_read(user.pk, notification.pk)

    assert again.status == RecipientStatus.DISMISSED
    assert again.dismissed_at == dismissed.dismissed_at


def test_someone_elses_notification_is_not_found(user) -> None:
    notification = notify(UserFactory())

    with pytest.raises(NotificationRecipient.DoesNotExist):
        inbox.mark_read(user.pk, notification.pk)


def test_unread_count_follows_reads(user) -> None:
    first, second = notify(user), notify(user)
    assert inbox.unread_count(user.pk) == 2

    inbox.mark_read(user.pk, first.pk)
    assert inbox.unread_count(user.pk) == 1

    assert inbox.mark_all_read(user.pk) == 1
    assert inbox.unread_count(user.pk) == 0
    assert second.recipients.get().status == RecipientStatus.READ
