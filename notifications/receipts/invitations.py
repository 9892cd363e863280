"""Delivery reports for the text message of a caregiver invitation by phone.

Those texts are not deliveries (``patients.invitation_sms``: the invitee may have no
account), so a report for one matches no ``Delivery``: it is stored as every report is
(``service.record_reports``, with no delivery) and then settles the invitation's own
outbox row here, found by the gateway's message id recorded when the gateway took the
text, or, for a send whose answer was lost, by our key echoed back (``reference``).

Only a text still "sent" moves: to delivered, or to failed with the gateway's reason. A
report repeated by the gateway, or one arriving after the text was settled, changes
nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.models import ReceiptStatus
from patients.models import CaregiverInvitation, InvitationSMS

from .statuses import StatusReport

logger = logging.getLogger(__name__)

# ``patients.invitation_sms.send``'s idempotency key: the id and the start of the token hash.
_REFERENCE = re.compile(r"^caregiver-invitation-(\d{1,18})-(\w{12})$")


def _referenced(reference: str) -> tuple[int, str] | None:
    match = _REFERENCE.match(reference)
    return (int(match.group(1)), match.group(2)) if match else None


def failure_reason(report: StatusReport) -> str:
    """Why the gateway says the text did not arrive, as ``sms_error`` keeps it."""
    why = report.detail or report.provider_status
    return f"{report.provider} reported it {report.outcome}: {why}"[:200]


@transaction.atomic
def record_invitation_reports(reports: Sequence[StatusReport]) -> int:
    """Settle the invitation texts these reports are about; returns how many moved.

    Two queries for any number of reports, plus one update per text settled."""
    settling = [report for report in reports if report.outcome]
    if not settling:
        return 0
    provider = settling[0].provider
    referenced = [key for report in settling if (key := _referenced(report.reference))]
    rows = CaregiverInvitation.objects.filter(
        Q(
            sms_provider=provider,
            sms_provider_message_id__in=[r.provider_message_id for r in settling],
        )
        # A send whose answer was lost has no message id yet: our key finds it.
        | Q(pk__in=[pk for pk, _hash in referenced], sms_provider_message_id=""),
        sms_status=InvitationSMS.SENT,
    ).values_list("pk", "sms_provider", "sms_provider_message_id", "token_hash")
    by_message_id: dict[str, int] = {}
    by_reference: dict[tuple[int, str], int] = {}
    for pk, row_provider, message_id, token_hash in rows:
        if message_id and row_provider == provider:
            by_message_id[message_id] = pk
        elif not message_id:
            by_reference[(pk, token_hash[:12])] = pk
    now = timezone.now()
    settled = 0
    for report in settling:
        found = by_message_id.get(report.provider_message_id)
        if found is None:
            found = by_reference.get(_referenced(report.reference) or (0, ""))
        if found is None:
            continue
        pk = found
        delivered = report.outcome == ReceiptStatus.DELIVERED
        settled += CaregiverInvitation.objects.filter(pk=pk, sms_status=InvitationSMS.SENT).update(
            sms_status=InvitationSMS.DELIVERED if delivered else InvitationSMS.FAILED,
            sms_error="" if delivered else failure_reason(report),
            sms_receipt_at=now,
            sms_provider=provider,
            sms_provider_message_id=report.provider_message_id[:200],
        )
        logger.info("caregiver invitation %d: SMS reported %s", pk, report.outcome)
    return settled
