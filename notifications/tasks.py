"""Celery tasks of the notifications app; routed to the ``notifications`` queue.

Arguments are ids and plain values only — never model objects, never health details.
Every task is safe to run twice: deliveries are claimed with a conditional update.
The sending tasks are fire-and-forget (``ignore_result``): publishing them never touches the
result store, so a Redis outage cannot hold up the request or the beat that publishes them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from celery import Task, shared_task

from notifications.delivery import digests, dispatch, outbox
from notifications.delivery.dispatch import ClaimReleased

# A send task that failed on a database or broker error has released its claim; it is tried
# again this many times, after short pauses (seconds, by retry number), before the outbox
# sweeper takes over. Short: a reminder must not wait for the next sweep behind a blip.
RETRY_PAUSES = (2, 5, 15)


@shared_task
def ping() -> dict[str, object]:
    """Answer from whichever worker consumed the notifications queue (a liveness probe)."""
    return {"queue": "notifications", "pid": os.getpid()}


def _pause(retries: int) -> float:
    return RETRY_PAUSES[min(retries, len(RETRY_PAUSES) - 1)]


@shared_task(bind=True, ignore_result=True, max_retries=len(RETRY_PAUSES))
def send_deliveries(self: Task, delivery_ids: Sequence[int]) -> dict[str, object]:
    """Claim and send a batch of deliveries (those still pending and due)."""
    pause = _pause(self.request.retries)
    try:
        return dispatch.send_deliveries(list(delivery_ids), retry_in=pause).as_dict()
    except ClaimReleased as released:
        raise self.retry(exc=released, countdown=pause + 0.5) from released


@shared_task(bind=True, ignore_result=True, max_retries=len(RETRY_PAUSES))
def send_email_digests(self: Task, user_ids: Sequence[int]) -> dict[str, object]:
    """Send each user's due digest email: one message gathering their deferred emails."""
    pause = _pause(self.request.retries)
    try:
        return digests.send_email_digests(list(user_ids), retry_in=pause).as_dict()
    except ClaimReleased as released:
        raise self.retry(exc=released, countdown=pause + 0.5) from released


@shared_task(ignore_result=True)
def sweep_outbox() -> dict[str, int]:
    """Publish due deliveries (deferred, retrying, or whose message was lost) and reclaim
    ones stuck with a dead worker. Runs every minute from beat."""
    return outbox.sweep().as_dict()


@shared_task
def send_medication_reminder(schedule_id: int) -> dict[str, object]:
    """Remind today's dose of one schedule now (the seed's manual test); a second call for
    the same dose reminds nobody twice. Returns what it did."""
    from medications.reminders import remind_schedule_now

    return remind_schedule_now(schedule_id)


@shared_task
def check_low_stock_alerts() -> dict[str, int]:
    """Low Stock Check (every 6 hours): alert patients (and caregivers who asked) whose
    supply runs out within its warning horizon, once per stock episode."""
    from medications.stock import check_low_stock

    return check_low_stock()


@shared_task
def check_expiring_medications() -> dict[str, int]:
    """Expiring Medications Check (daily 09:00): supplies expiring within their horizon,
    and those expiring today."""
    from medications.expiry import check_expiring_medications as check

    return check()


@shared_task
def cleanup_old_notifications() -> dict[str, int]:
    """Cleanup Old Notifications (Sunday 02:00): delete read and dismissed notifications
    past their retention, in batches."""
    from notifications.cleanup import cleanup_old_notifications as cleanup

    return cleanup()


@shared_task
def reconcile_unknown_deliveries() -> dict[str, int]:
    """Reconcile Unknown Deliveries (every 5 minutes): sends whose answer was lost and no
    receipt settled; resent only where the provider evidently never took them."""
    from notifications.receipts.outcomes import reconcile_unknown

    return reconcile_unknown()


@shared_task
def check_push_receipts() -> dict[str, int]:
    """Push Receipts (every 15 minutes): Expo's receipts for tickets at least 15 minutes
    old; devices Expo no longer knows are deactivated."""
    from notifications.receipts.outcomes import check_push_receipts as check

    return check()
