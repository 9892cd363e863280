"""What every SMS path checks about a number and a text before it costs money."""

from __future__ import annotations

import re

import phonenumbers

from notifications.rendering.sms_text import GSM7_BASIC, GSM7_EXTENSION

from ..base import TransportError

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def validate_phone_number(number: str) -> None:
    """Raise a permanent ``TransportError`` unless ``number`` is a valid E.164 number."""
    if not _E164.match(number):
        raise TransportError("invalid phone number", permanent=True)
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        raise TransportError("invalid phone number", permanent=True) from None
    if not phonenumbers.is_valid_number(parsed):
        raise TransportError("invalid phone number", permanent=True)


def needs_ucs2(text: str) -> bool:
    """Whether ``text`` must go out as UCS-2 (70 characters a segment) rather than GSM-7
    (160): the renderer already replaced what has a close GSM-7 character, so what is
    left outside the alphabet (an emoji, a script GSM-7 lacks) is meant."""
    return not all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)
