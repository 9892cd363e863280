"""The text message of a caregiver invitation by phone, sent by a worker as the outbox sends
a delivery: the row is written first (``sms_status`` pending), its id published after
commit, the worker claims it with one conditional update, sends through the configured
SMS transport (``NOTIFICATION_TRANSPORTS["sms"]``: gateways with failover, or the file
transport in development) and records the outcome; a temporary failure is retried with
back-off, a permanent one ends it, and a sweep every minute re-publishes what a lost broker
message or a dead worker left behind.

Not a ``notifications.Delivery``: those belong to a user's ``NotificationRecipient``, and
the person invited by number may have no account yet. The message names the patient and
carries the link, never a medicine; the task carries the invitation's id only, and the
link's token is derived again here from ``link_secret`` and ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from notifications.channels import (
    OutcomeUnknown,
    OutgoingMessage,
    SendReceipt,
    TransportError,
    get_transport,
)
from notifications.policy.decisions import may_retry, retry_delay
from notifications.rendering.messages import language_of

from .models import CaregiverInvitation, InvitationSMS

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 1000


def sms_token(link_secret: str) -> str:
    """The link's token for an invitation by SMS: a keyed hash of its stored secret, 32
    URL-safe characters (192 bits), short enough for the link to fit one text message."""
    digest = salted_hmac("patients.caregiver-invitation", link_secret, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode()


def text_for(invitation: CaregiverInvitation, token: str) -> tuple[str, str]:
    """The SMS text and its language (the patient's: the invitation speaks in their name)."""
    patient = invitation.patient
    language = language_of(patient)
    url = settings.SITE_BASE_URL + reverse("patients:accept", args=[token])
    with translation.override(language):
        text = _(
            "MedGuard SA: %(patient)s asks you to be their caregiver. Accept within "
            "%(days)d days: %(url)s"
        ) % {
            "patient": patient.get_full_name() or patient.username,
            "days": (invitation.expires_at - invitation.created_at).days,
            "url": url,
        }
    return text, language


def publish(invitation_ids: list[int]) -> None:
    """Publish the send tasks; a broker that is down is logged and left to the sweep."""
    from .tasks import send_invitation_sms

    try:
        for invitation_id in invitation_ids:
            send_invitation_sms.delay(invitation_id)
    except Exception as error:  # kombu raises many types for "broker unreachable"
        logger.warning(
            "could not publish caregiver invitation SMS (%s); the sweep will retry",
            type(error).__name__,
        )


def _claim(invitation_id: int, now: datetime.datetime) -> bool:
    """Take the invitation's SMS for this worker: one conditional update, so two workers
    (or a repeated broker message) never both send it."""
    return bool(
        CaregiverInvitation.objects.filter(
            pk=invitation_id,
            sms_status=InvitationSMS.PENDING,
            sms_not_before__lte=now,
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
        ).update(
            sms_status=InvitationSMS.SENDING, sms_claimed_at=now, sms_attempts=F("sms_attempts") + 1
        )
    )


def send(invitation_id: int) -> str:
    """Send the invitation's SMS if it is still due; returns its status afterwards."""
    now = timezone.now()
    if not _claim(invitation_id, now):
        return "not due"
    invitation = CaregiverInvitation.objects.select_related("patient").get(pk=invitation_id)
    text, language = text_for(invitation, sms_token(invitation.link_secret))
    message = OutgoingMessage(
        delivery_id=0,
        channel="sms",
        to=str(invitation.phone),
        text=text,
        # The same invitation sent again (after a crash) carries the same key.
        idempotency_key=f"caregiver-invitation-{invitation.pk}-{invitation.token_hash[:12]}",
        language=language,
    )
    try:
        with get_transport("sms") as transport:
            receipt = transport.send(message)
    except OutcomeUnknown as error:
        # The gateway may have taken it: not sent blindly again, shown as sent with the doubt.
        return _finish(
            invitation,
            InvitationSMS.SENT,
            error=f"outcome unknown: {error.reason}",
            # No message id: its delivery report finds it by our key (the reference).
            receipt=SendReceipt(provider=error.provider),
        )
    except TransportError as error:
        if may_retry(invitation.sms_attempts, settings.NOTIFICATION_MAX_ATTEMPTS, error.permanent):
            pause = retry_delay(
                invitation.sms_attempts,
                base_seconds=settings.NOTIFICATION_RETRY_BASE_SECONDS,
                max_seconds=settings.NOTIFICATION_RETRY_MAX_SECONDS,
            )
            return _finish(
                invitation,
                InvitationSMS.PENDING,
                error=error.reason,
                not_before=timezone.now() + datetime.timedelta(seconds=pause),
            )
        return _finish(invitation, InvitationSMS.FAILED, error=error.reason)
    return _finish(invitation, InvitationSMS.SENT, receipt=receipt)


def _finish(
    invitation: CaregiverInvitation,
    status: str,
    *,
    error: str = "",
    not_before: datetime.datetime | None = None,
    receipt: SendReceipt | None = None,
) -> str:
    changes: dict[str, object] = {"sms_status": status, "sms_error": error[:200]}
    if status == InvitationSMS.SENT:
        changes["sms_sent_at"] = timezone.now()
    if receipt is not None:
        # The gateway's delivery report names the message by these (failover means the
        # gateway is not always the first one).
        changes["sms_provider"] = receipt.provider[:20]
        changes["sms_provider_message_id"] = receipt.provider_message_id[:200]
    if not_before is not None:
        changes["sms_not_before"] = not_before
    CaregiverInvitation.objects.filter(pk=invitation.pk, sms_status=InvitationSMS.SENDING).update(
        **changes
    )
    logger.info(
        "caregiver invitation %d: SMS %s after %d attempts%s",
        invitation.pk,
        status,
        invitation.sms_attempts,
        f" ({error})" if error else "",
    )
    return status


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Hand back SMS claims a dead worker left (after ``NOTIFICATION_STUCK_AFTER_SECONDS``)
    and publish every due one. Runs every minute ("Caregiver Invitation SMS")."""
    now = now or timezone.now()
    stuck_before = now - datetime.timedelta(seconds=settings.NOTIFICATION_STUCK_AFTER_SECONDS)
    open_ones = CaregiverInvitation.objects.filter(
        accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
    )
    # A worker that died mid-send may have sent it: the retry reuses the idempotency key.
    reclaimed = open_ones.filter(
        sms_status=InvitationSMS.SENDING, sms_claimed_at__lt=stuck_before
    ).update(sms_status=InvitationSMS.PENDING, sms_error="worker lost while sending")
    due = list(
        open_ones.filter(Q(sms_status=InvitationSMS.PENDING), sms_not_before__lte=now)
        .order_by("sms_not_before")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    if due:
        transaction.on_commit(lambda: publish(due))
    return {"reclaimed": reclaimed, "published": len(due)}
