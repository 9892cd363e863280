"""The development push transports: ``FilePushTransport`` (the embedded default; one JSON
file per message under ``NOTIFICATION_FILE_TRANSPORT_DIR/push``) and
``ConsolePushTransport`` (prints to stdout)."""

from __future__ import annotations

from typing import Any

from ..base import (
    OutgoingMessage,
    SendReceipt,
    Transport,
    TransportError,
    write_console,
    write_json,
)

# Enough to tell devices apart in a file a developer reads; a whole token is a credential
# that lets anyone push to the device.
_TOKEN_SHOWN = 12


def shown_token(token: str) -> str:
    return token if len(token) <= _TOKEN_SHOWN else token[:_TOKEN_SHOWN] + "…"


def require_targets(message: OutgoingMessage) -> None:
    if not message.push_targets:
        raise TransportError("no active push device", permanent=True)


class FilePushTransport(Transport):
    channel = "push"

    def send(self, message: OutgoingMessage) -> SendReceipt:
        require_targets(message)
        document: dict[str, Any] = {
            "targets": [
                {"kind": target.kind, "token": shown_token(target.token)}
                for target in message.push_targets
            ],
            "title": message.subject,
            "body": message.text,
            "idempotency_key": message.idempotency_key,
        }
        path = write_json("push", message.stable_name, document)
        return SendReceipt(provider_message_id=f"file-{path.stem}")


class ConsolePushTransport(Transport):
    channel = "push"

    def send(self, message: OutgoingMessage) -> SendReceipt:
        require_targets(message)
        devices = ", ".join(
            f"{target.kind} {shown_token(target.token)}" for target in message.push_targets
        )
        write_console(
            f"Push to {devices} (delivery {message.delivery_id}, "
            f"language {message.language})\n\n{message.subject}\n{message.text}"
        )
        return SendReceipt(provider_message_id=f"console-{message.stable_name}")
