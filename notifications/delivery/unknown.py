"""What staff can do about a delivery whose outcome is unknown (the request went out and no
answer came): the admin's three actions call these.

- ``reconcile_now``: ask the provider's status API, where it can find a message by our key
  (``STATUS_LOOKUPS``): a message found settles the delivery as sent (with the provider's
  id), none found means the provider never took it, so it is sent again under the same key;
  a provider without such an API leaves it unknown for the two actions below.
- ``mark_sent``: the provider confirmed (its dashboard, its support) that it took it.
- ``resend``: staff confirmed with the provider that it never took it.

Only deliveries still ``unknown`` change (a conditional UPDATE, so a receipt or another
member of staff acting meanwhile wins), and each change is one audit entry naming the staff
member and their reason. Never a blind resend: ``resend`` needs that confirmation, and
``reconcile_now`` resends only on the provider's own word.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.channels import TransportError
from notifications.delivery import outbox
from notifications.models import Delivery, DeliveryStatus
from privacy.models import AuditAction
from privacy.services import audit

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# Providers whose status API finds a message by the key we sent with it
# (``delivery-<id>``). Clickatell, Twilio and Africa's Talking look messages up only by
# their own id, which an unknown outcome never got; Expo and FCM have no lookup at all.
STATUS_LOOKUPS: dict[str, str] = {
    "bulksms": "notifications.channels.sms.bulksms.BulkSMS",
}
REASON_MAX_LENGTH = 200


class StatusLookup(Protocol):
    def find_sent(self, key: str) -> str | None:
        """The provider's id of the message sent under ``key``, None if it has none;
        raise ``TransportError`` when it cannot tell."""


@dataclass
class Reconciled:
    sent: int = 0
    resent: int = 0
    # Providers without a status API, and lookups that failed: still unknown.
    no_status_api: int = 0
    lookup_failed: int = 0


def delivery_key(delivery_id: int) -> str:
    """The idempotency key the delivery was sent with (dispatch's ``delivery-<id>``)."""
    return f"delivery-{delivery_id}"


def reconcile_now(
    deliveries: QuerySet[Delivery], *, staff: User, reason: str, ip_address: str | None = None
) -> Reconciled:
    result = Reconciled()
    found: list[tuple[int, int, str]] = []  # (delivery id, user id, provider's id)
    never_taken: list[tuple[int, int]] = []
    for pk, user_id, provider in _unknown(deliveries).values_list(
        "pk", "recipient__user_id", "provider"
    ):
        if provider not in STATUS_LOOKUPS:
            result.no_status_api += 1
            continue
        lookup: StatusLookup = import_string(STATUS_LOOKUPS[provider])()
        try:
            provider_id = lookup.find_sent(delivery_key(pk))
        except TransportError as error:
            logger.warning("delivery %d: %s status lookup failed: %s", pk, provider, error)
            result.lookup_failed += 1
            continue
        if provider_id is None:
            never_taken.append((pk, user_id))
        else:
            found.append((pk, user_id, provider_id))
    now = timezone.now()
    with transaction.atomic():
        for pk, user_id, provider_id in found:
            changed = (
                Delivery.objects.filter(pk=pk, status=DeliveryStatus.UNKNOWN).update(
                    status=DeliveryStatus.SENT,
                    sent_at=now,
                    provider_message_id=provider_id,
                    last_error="",
                )
                > 0
            )
            if changed:
                result.sent += 1
                _audit(staff, [(pk, user_id)], "reconciled: provider took it", reason, ip_address)
        result.resent = _resend(
            never_taken, staff, "reconciled: provider never took it", reason, ip_address
        )
    return result


def mark_sent(
    deliveries: QuerySet[Delivery], *, staff: User, reason: str, ip_address: str | None = None
) -> int:
    rows = list(_unknown(deliveries).values_list("pk", "recipient__user_id"))
    with transaction.atomic():
        changed = _changed(rows)
        Delivery.objects.filter(
            pk__in=[pk for pk, _user in changed], status=DeliveryStatus.UNKNOWN
        ).update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
        _audit(staff, changed, "marked sent: provider confirmed it took it", reason, ip_address)
    return len(changed)


def resend(
    deliveries: QuerySet[Delivery], *, staff: User, reason: str, ip_address: str | None = None
) -> int:
    rows = list(_unknown(deliveries).values_list("pk", "recipient__user_id"))
    with transaction.atomic():
        return _resend(
            rows, staff, "resent: staff confirmed the provider never took it", reason, ip_address
        )


def _unknown(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    return deliveries.filter(status=DeliveryStatus.UNKNOWN).order_by("pk")


def _changed(rows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Those of ``rows`` still unknown, locked until the transaction ends: a receipt that
    settles one meanwhile wins, and it is neither changed nor audited here."""
    still = set(
        Delivery.objects.select_for_update()
        .filter(pk__in=[pk for pk, _user in rows], status=DeliveryStatus.UNKNOWN)
        .values_list("pk", flat=True)
    )
    return [(pk, user) for pk, user in rows if pk in still]


def _resend(
    rows: Sequence[tuple[int, int]],
    staff: User,
    what: str,
    reason: str,
    ip_address: str | None,
) -> int:
    """Back to the outbox, due now, under the same key (providers that take one can still
    recognise a repeat); published once the transaction commits."""
    changed = _changed(rows)
    if not changed:
        return 0
    ids = [pk for pk, _user in changed]
    now = timezone.now()
    Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.UNKNOWN).back_to_pending(
        not_before=now, enqueued_at=now, last_error=f"{what}: {reason}"[:300]
    )
    _audit(staff, changed, what, reason, ip_address)
    transaction.on_commit(lambda: outbox.enqueue_deliveries(ids))
    return len(ids)


def _audit(
    staff: User,
    rows: Iterable[tuple[int, int]],
    what: str,
    reason: str,
    ip_address: str | None,
) -> None:
    audit.record_many(
        actor=staff,
        action=AuditAction.CHANGE,
        resource="delivery",
        subjects=[(user_id, pk) for pk, user_id in rows],
        what=f"{what}; reason: {reason}",
        ip_address=ip_address,
    )
