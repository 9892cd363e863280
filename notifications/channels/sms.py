"""SMS transports.

Only development transports exist so far: ``FileSMSTransport`` (the default; one JSON
file per message under ``NOTIFICATION_FILE_TRANSPORT_DIR/sms``) and
``ConsoleSMSTransport`` (prints to stdout).

A real SMS gateway will be one more small ``Transport`` subclass that posts over HTTP.
It validates the number the same way (``validate_phone_number``) before any request; sends
with a short connect and read timeout (a slow gateway must not hold a worker past its task
time limit); passes ``OutgoingMessage.idempotency_key`` in the header or field the gateway
offers for it, so a resend after a crash is not a second SMS; and maps answers to
``TransportError``: 4xx that names the number or the content (invalid or unreachable
number, opted out) is permanent, while timeouts, connection errors, 429 and 5xx are
temporary. It returns the gateway's message id as ``provider_message_id``; the gateway's
delivery receipts arrive later on a webhook that finds the ``Delivery`` by that id.
"""

from __future__ import annotations

import re

import phonenumbers

from .base import OutgoingMessage, SendReceipt, Transport, TransportError, write_console, write_json

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


class FileSMSTransport(Transport):
    channel = "sms"

    def send(self, message: OutgoingMessage) -> SendReceipt:
        validate_phone_number(message.to)
        path = write_json(
            "sms",
            message.stable_name,
            {
                "to": message.to,
                "text": message.text,
                "idempotency_key": message.idempotency_key,
                "language": message.language,
            },
        )
        return SendReceipt(provider_message_id=f"file-{path.stem}")


class ConsoleSMSTransport(Transport):
    channel = "sms"

    def send(self, message: OutgoingMessage) -> SendReceipt:
        validate_phone_number(message.to)
        write_console(
            f"SMS to {message.to} (delivery {message.delivery_id}, "
            f"language {message.language})\n\n{message.text}"
        )
        return SendReceipt(provider_message_id=f"console-{message.stable_name}")
