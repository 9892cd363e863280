"""Recording what providers report about sent messages: the one place a receipt becomes
stored state on the delivery."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import Delivery, DeliveryReceipt, DeliveryStatus
from privacy.redaction import redact_contact_details

from .statuses import StatusReport

_REFERENCE = re.compile(r"^delivery-(\d{1,18})$")


def delivery_id_of(reference: str) -> int | None:
    """The delivery id inside our idempotency key ("delivery-123"), if it is one."""
    match = _REFERENCE.match(reference)
    return int(match.group(1)) if match else None


@transaction.atomic
def record_reports(reports: Sequence[StatusReport]) -> int:
    """Store each report once and move its delivery's receipt status; returns how many
    were new. A report repeated by the provider changes nothing. A delivery whose send
    had an unknown outcome is settled as sent: the provider evidently has it.

    A constant number of queries whatever the number of reports."""
    if not reports:
        return 0
    existing = set(
        DeliveryReceipt.objects.filter(
            provider=reports[0].provider,
            provider_message_id__in=[r.provider_message_id for r in reports],
        ).values_list("provider_message_id", "provider_status")
    )
    new = [r for r in reports if (r.provider_message_id, r.provider_status) not in existing]
    new = list({(r.provider_message_id, r.provider_status): r for r in new}.values())
    if not new:
        return 0
    by_reference = {delivery_id_of(r.reference) for r in new} - {None}
    rows = Delivery.objects.filter(
        Q(id__in=by_reference)
        | Q(provider=new[0].provider, provider_message_id__in=[r.provider_message_id for r in new])
    ).values_list("id", "provider_message_id", "status")
    by_id = {pk: (message_id, status) for pk, message_id, status in rows}
    by_message_id = {message_id: pk for pk, (message_id, _status) in by_id.items() if message_id}

    now = timezone.now()
    receipts = []
    for report in new:
        delivery_id = delivery_id_of(report.reference)
        if delivery_id not in by_id:
            delivery_id = by_message_id.get(report.provider_message_id)
        receipts.append(
            DeliveryReceipt(
                delivery_id=delivery_id,
                provider=report.provider,
                provider_message_id=report.provider_message_id,
                provider_status=report.provider_status,
                outcome=report.outcome,
                detail=redact_contact_details(report.detail),
                received_at=now,
            )
        )
        if delivery_id is None:
            continue
        if by_id[delivery_id][1] == DeliveryStatus.UNKNOWN:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.UNKNOWN).update(
                status=DeliveryStatus.SENT,
                sent_at=now,
                provider=report.provider,
                provider_message_id=report.provider_message_id,
                last_error="",
            )
        if report.outcome:
            Delivery.objects.filter(pk=delivery_id).update(
                receipt_status=report.outcome, receipt_at=now
            )
    DeliveryReceipt.objects.bulk_create(receipts, ignore_conflicts=True)
    return len(new)
