"""Holding back the SMS of a claimed batch that would exceed today's budget
(``notifications.channels.sms.budget``): back to pending until the next day opens, the
attempt given back and the reason recorded — never sent over budget, never dropped."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import F
from django.utils import timezone

from notifications.channels.sms.budget import BUDGET_REASON, over_budget
from notifications.models import Delivery, DeliveryStatus

logger = logging.getLogger(__name__)


def hold_over_budget(
    ids: Sequence[int], deliveries: Mapping[int, Delivery], summary: Any
) -> list[int]:
    """The ids of ``ids`` within today's SMS budget; the others wait for tomorrow's."""
    over, tomorrow = over_budget(
        [(i, deliveries[i].recipient.user_id) for i in ids], timezone.now()
    )
    if not over:
        return list(ids)
    summary.deferred += Delivery.objects.filter(pk__in=over, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING,
        not_before=tomorrow,
        claim_token=None,
        claimed_at=None,
        enqueued_at=None,
        attempts=F("attempts") - 1,
        last_error=BUDGET_REASON,
    )
    logger.warning("%d SMS held back until tomorrow: daily budget reached", len(over))
    return [i for i in ids if i not in over]
