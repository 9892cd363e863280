"""Proving that a phone number reaches its user, by a code sent to it by SMS.

No SMS goes to a number a user typed until they have typed back the code it received
(the delivery policy reads ``User.phone_verified``). Numbers set by staff count as
verified. allauth has a phone flow too, but it keeps the code in clear in the session
and makes verification a stage of signing in; here the code is stored only as a keyed
hash, expires, allows a few attempts, and never blocks signing in.

The code is sent from the request, not from a Celery task: a task's arguments sit in the
broker, and a code is a secret.
"""

from __future__ import annotations

import datetime
import secrets
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from notifications.channels import OutgoingMessage, get_transport
from notifications.rendering.messages import language_of

from .models import PhoneVerification, User

CODE_DIGITS = 6


class Outcome(StrEnum):
    VERIFIED = "verified"
    WRONG_CODE = "wrong_code"  # attempts remain
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NO_CODE = "no_code"  # none asked for, or the number changed since


def _code_hash(user_id: int, phone: str, code: str) -> str:
    # Keyed with SECRET_KEY: a million possible codes are no secret to a plain hash.
    return salted_hmac(
        "accounts.phones", f"{user_id}:{phone}:{code}", algorithm="sha256"
    ).hexdigest()


def send_code(user: User, number: object) -> PhoneVerification:
    """Store ``number`` as the user's unverified number and text it a new code; an earlier
    code stops working. Raises ``TransportError`` when the SMS could not be sent."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        user.set_phone(number, verified=False)
        user.save(update_fields=["phone", "phone_verified"])
        phone = str(user.phone)
        verification, _created = PhoneVerification.objects.update_or_create(
            user=user,
            defaults={
                "phone": phone,
                "code_hash": _code_hash(user.pk, phone, code),
                "expires_at": now
                + datetime.timedelta(minutes=settings.PHONE_VERIFICATION_CODE_MINUTES),
                "attempts": 0,
            },
        )
    language = language_of(user)
    with translation.override(language):
        text = _(
            "Your MedGuard SA code is %(code)s. It expires in %(minutes)d minutes. Do not share it."
        ) % {"code": code, "minutes": settings.PHONE_VERIFICATION_CODE_MINUTES}
    message = OutgoingMessage(
        delivery_id=0,
        channel="sms",
        to=phone,
        text=text,
        # One per code sent: a repeat of this send is recognisable, a new code is not one.
        idempotency_key=f"phone-code-{verification.pk}-{int(now.timestamp() * 1000)}",
        language=language,
    )
    with get_transport("sms") as transport:
        transport.send(message)
    return verification


def confirm_code(user: User, code: str) -> Outcome:
    """Check ``code`` against the user's outstanding one; on a match the number they have
    now is verified. Wrong codes count; the last allowed one ends the code."""
    now = timezone.now()
    with transaction.atomic():
        verification = PhoneVerification.objects.select_for_update().filter(user=user).first()
        if verification is None:
            return Outcome.NO_CODE
        current = User.objects.select_for_update().only("phone").get(pk=user.pk)
        if str(verification.phone) != str(current.phone):
            verification.delete()
            return Outcome.NO_CODE
        if now >= verification.expires_at:
            verification.delete()
            return Outcome.EXPIRED
        expected = _code_hash(user.pk, str(verification.phone), code.strip())
        if not constant_time_compare(expected, verification.code_hash):
            verification.attempts += 1
            if verification.attempts >= settings.PHONE_VERIFICATION_MAX_ATTEMPTS:
                verification.delete()
                return Outcome.TOO_MANY_ATTEMPTS
            verification.save(update_fields=["attempts"])
            return Outcome.WRONG_CODE
        verification.delete()
        user.set_phone(current.phone, verified=True)
        user.save(update_fields=["phone", "phone_verified"])
    return Outcome.VERIFIED


def pending_verification(user: User) -> PhoneVerification | None:
    return PhoneVerification.objects.filter(user=user, expires_at__gt=timezone.now()).first()
