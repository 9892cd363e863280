"""The development SMS transports: ``FileSMSTransport`` (the embedded default; one JSON
file per message under ``NOTIFICATION_FILE_TRANSPORT_DIR/sms``) and
``ConsoleSMSTransport`` (prints to stdout)."""

from __future__ import annotations

from ..base import OutgoingMessage, SendReceipt, Transport, write_console, write_json
from .numbers import validate_phone_number


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
