"""A patient's SMS answer to a reminder: TAKEN / 1 / GENEEM records the dose as taken,
SKIP / OORSLAAN as skipped, STOP / STOPP turns SMS off; anything else gets one short help
reply (one per number a day, so two auto-responders cannot talk to each other forever).

A dose is recorded only for the number's verified owner, through the same service the API
uses (``medications.doses``), for the dose of the last reminder SMS sent to them.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from medications.doses import DoseStateError, skip_dose, take_dose
from notifications.channels import OutgoingMessage, TransportError, get_transport
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationType,
    UserNotificationPreferences,
)
from privacy.encryption.fields import blind_match
from privacy.encryption.keys import blind_index

logger = logging.getLogger(__name__)

TAKEN_WORDS = {"taken", "take", "took", "1", "geneem", "neem"}
SKIP_WORDS = {"skip", "skipped", "2", "oorslaan", "oorgeslaan"}
STOP_WORDS = {"stop", "stopp", "unsubscribe"}
# How long after a reminder SMS an answer still means that reminder's dose.
ANSWER_WINDOW = timedelta(hours=12)


class UnreadableReply(ValueError):
    pass


@dataclass(frozen=True)
class InboundSMS:
    provider: str
    provider_message_id: str
    sender: str  # E.164
    text: str


def read_inbound(provider: str, body: bytes, form: Mapping[str, str]) -> InboundSMS:
    """The gateway's inbound message in one shape (each posts its own)."""
    if provider in ("clickatell", "bulksms"):
        try:
            data: Any = json.loads(body)
        except ValueError:
            raise UnreadableReply("the body is not JSON") from None
        if provider == "bulksms":
            data = data[0] if isinstance(data, list) and data else data
            fields = ("id", "from", "body")
        else:
            fields = ("messageId", "fromNumber", "text")
        if not isinstance(data, Mapping) or not all(data.get(f) for f in fields):
            raise UnreadableReply(f"{', '.join(fields)} are required")
        message_id, sender, text = (str(data[f]) for f in fields)
    elif provider == "africastalking":
        message_id, sender, text = form.get("id", ""), form.get("from", ""), form.get("text", "")
    else:
        message_id, sender, text = (
            form.get("MessageSid", ""),
            form.get("From", ""),
            form.get("Body", ""),
        )
    if not (message_id and sender):
        raise UnreadableReply("the message id and the sender are required")
    sender = sender if sender.startswith("+") else f"+{sender}"
    return InboundSMS(provider, message_id, sender, text)


def keyword(text: str) -> str:
    """The first word, lower-cased, without accents or punctuation ("Geneem!" -> "geneem")."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = plain.split()
    return words[0].strip(".,!?;:'\"") if words else ""


def handle_reply(inbound: InboundSMS) -> str:
    """What the answer did: "taken", "skipped", "opted_out", "help" or "ignored"."""
    # A gateway retrying its webhook must not record twice or reply twice.
    if not cache.add(f"sms-inbound:{inbound.provider}:{inbound.provider_message_id}", 1, 86400):
        return "ignored"
    word = keyword(inbound.text)
    # Numbers are encrypted at rest: the sender is found by the number's blind index.
    user_model = get_user_model()
    users = user_model.objects.filter(
        blind_match(user_model, "phone", inbound.sender), is_active=True
    )
    if word in STOP_WORDS:
        # Honoured for every account on the number, verified or not: stopping must work.
        UserNotificationPreferences.objects.filter(user__in=users).update(
            sms_notifications_enabled=False
        )
        return "opted_out"
    owner = _verified_owner(users)
    if owner is not None and (word in TAKEN_WORDS or word in SKIP_WORDS):
        dose_id = _answered_dose(owner.pk)
        if dose_id is not None:
            try:
                if word in TAKEN_WORDS:
                    take_dose(dose_id, by=owner)
                    return "taken"
                skip_dose(dose_id, by=owner)
                return "skipped"
            except DoseStateError:
                pass  # already recorded the other way: the help text says what to do
    _send_help(inbound, owner or users.order_by("pk").first())
    return "help"


def _verified_owner(users: Any) -> Any:
    # Until a number is verified it may be anybody's (mistyped, recycled): a dose must not
    # be recorded on a stranger's word.
    return users.filter(phone_verified=True).order_by("pk").first()


def _answered_dose(user_id: int) -> int | None:
    since = timezone.now() - ANSWER_WINDOW
    context = (
        Delivery.objects.filter(
            recipient__user_id=user_id,
            channel=Channel.SMS,
            status=DeliveryStatus.SENT,
            sent_at__gte=since,
            recipient__notification__notification_type=NotificationType.MEDICATION,
        )
        .order_by("-sent_at")
        .values_list("recipient__notification__context", flat=True)
        .first()
    )
    dose_id = context.get("dose_id") if isinstance(context, dict) else None
    return int(dose_id) if dose_id is not None else None


def _send_help(inbound: InboundSMS, account: Any) -> None:
    """One help SMS per number a day, in the language of the account on that number."""
    # Keyed: a plain hash of a phone number in the cache is undone by hashing every number.
    number_key = blind_index("sms.help", inbound.sender)[:24]
    if not cache.add(f"sms-help:{number_key}", 1, 86400):
        return
    language = getattr(account, "preferred_language", "en") or "en"
    with translation.override(language):
        text = gettext(
            "MedGuard: reply TAKEN or 1 when you took your dose, SKIP to skip it, "
            "STOP for no more SMS."
        )
    message = OutgoingMessage(
        delivery_id=0,
        channel=Channel.SMS,
        to=inbound.sender,
        text=text,
        idempotency_key=f"help-{inbound.provider}-{inbound.provider_message_id}"[:64],
        language=language,
    )

    def send() -> None:
        try:
            with get_transport("sms") as transport:
                transport.send(message)
        except TransportError as error:
            logger.warning("SMS help reply not sent: %s", error.reason)

    transaction.on_commit(send)
