"""What every channel transport takes, returns and raises.

A transport sends one rendered message to one recipient on one channel. It knows nothing
about the database: the caller claims deliveries, renders them, calls ``send`` and turns
the receipt or the ``TransportError`` into stored state (DESIGN.md, delivery pipeline
step 6). Deciding ``permanent`` is the transport's job because only it knows what its
provider's answers mean.

The end of the module holds what the development transports (file and console) share.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from django.conf import settings

from privacy.redaction import redact_contact_details


@dataclass(frozen=True)
class PushTarget:
    device_id: int
    kind: str  # "expo" | "fcm" | "webpush"
    token: str  # the Expo or FCM token, or the Web Push endpoint URL
    keys: Mapping[str, str] = field(default_factory=dict)  # Web Push p256dh and auth


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: int
    channel: str  # "email" | "sms" | "push"
    to: str  # an email address or an E.164 phone number; "" for push
    subject: str = ""  # email subject, push title
    text: str = ""  # email plain text, SMS text, push body
    html: str = ""  # email HTML; "" sends text only
    push_targets: tuple[PushTarget, ...] = ()
    # Stable per delivery ("delivery-123"): a resend after a crash carries the same key, so
    # providers that accept one (and our own file outbox) can recognise the repeat.
    idempotency_key: str = ""
    language: str = "en"

    @property
    def stable_name(self) -> str:
        """The idempotency key, or ``delivery-<id>`` without one; safe as a file name or
        a Message-ID's local part."""
        return safe_name(self.idempotency_key or f"delivery-{self.delivery_id}")


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str = ""
    # Which provider took the message ("clickatell", "expo"...): receipts are looked up
    # by (provider, provider_message_id), and failover means it is not always the first.
    provider: str = ""
    # Push only: devices the provider said are gone (unregistered); the caller
    # deactivates them.
    dead_device_ids: tuple[int, ...] = ()
    # Expo only: (device id, push ticket id) for each device that took the message; the
    # caller stores them and the receipts task asks Expo about them later.
    push_tickets: tuple[tuple[int, str], ...] = ()


class TransportError(Exception):
    """A send failed. ``permanent`` means retrying the same message cannot succeed (an
    invalid address, an unknown device); otherwise the caller retries with back-off.

    ``reason`` is stored in the database and may be logged, so it never contains the
    message text, the email address or the phone number: the transports build it from
    fixed words and codes, and any number or address a provider's text still brings in is
    redacted here (issue 14).
    """

    def __init__(
        self, reason: str, *, permanent: bool, dead_device_ids: tuple[int, ...] = ()
    ) -> None:
        reason = redact_contact_details(reason)
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        # Push only: devices the provider called gone, to deactivate even though the
        # message failed (every device of the recipient may be gone).
        self.dead_device_ids = dead_device_ids

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"TransportError({self.reason!r}, permanent={self.permanent})"


class OutcomeUnknown(TransportError):
    """The request reached the provider but no answer came back (a read timeout, the
    connection dropped after the request was written): the message may or may not have
    been taken. Never resent blindly: the caller records the delivery as unknown and the
    reconciler asks the provider (status API or receipt) before anything is resent."""

    def __init__(self, reason: str, *, provider: str = "") -> None:
        super().__init__(reason, permanent=False)
        self.provider = provider


# What one message of a batch came to: a receipt, or the error it would have raised.
SendOutcome = SendReceipt | TransportError


class Transport(abc.ABC):
    """One channel's way out. Use as a context manager around a batch of sends, so that
    a transport with a connection (email) opens it once for the whole batch."""

    channel: ClassVar[str]

    def open(self) -> None:  # noqa: B027 - most transports hold no connection
        """Prepare for a batch. Must not raise for an unreachable provider: each ``send``
        reports that instead, so every delivery gets its own recorded outcome."""

    def close(self) -> None:  # noqa: B027 - most transports hold no connection
        """Release what ``open`` acquired."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @abc.abstractmethod
    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Send one message, or raise ``TransportError``."""

    def send_batch(self, messages: Iterable[OutgoingMessage]) -> list[SendOutcome]:
        """Send several messages; one outcome per message, in order. HTTP transports
        override this to keep many requests in flight (a provider answering in 100 ms
        allows only ten sends a second one after the other). ``messages`` may be a
        generator that renders each message as it is taken."""
        outcomes: list[SendOutcome] = []
        for message in messages:
            try:
                outcomes.append(self.send(message))
            except TransportError as error:
                outcomes.append(error)
        return outcomes


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(key: str) -> str:
    """``key`` itself when it uses only letters, digits, ``.``, ``_`` and ``-`` (as
    "delivery-123" does); otherwise a cleaned copy with a hash of the original, so that
    two different keys never share a file name or a Message-ID."""
    cleaned = _UNSAFE.sub("_", key).strip(".")
    if cleaned == key:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{cleaned}-{digest}" if cleaned else digest


# --- The development transports' outbox: a directory of JSON files, or the console ---

# The threads of one worker share stdout: keep each message's lines together.
_console_lock = threading.Lock()


def write_json(channel: str, name: str, document: dict[str, Any]) -> Path:
    """Write ``<NOTIFICATION_FILE_TRANSPORT_DIR>/<channel>/<name>.json``, replacing any
    earlier file of that name: the same idempotency key twice is one file."""
    folder = Path(settings.NOTIFICATION_FILE_TRANSPORT_DIR) / channel
    path = folder / f"{name}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a reader never sees, and a worker killed mid-write
        # never leaves, a half-written file under the final name.
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(document, file, ensure_ascii=False, indent=2)
                file.write("\n")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise TransportError(
            f"outbox write failed: {type(error).__name__}", permanent=False
        ) from None
    return path


def write_console(text: str) -> None:
    """Print a message to stdout, as Django's console email backend does. Development
    only: this is the message itself, so it must never go to logging."""
    with _console_lock:
        sys.stdout.write(text)
        sys.stdout.write("\n" + "-" * 79 + "\n")
        sys.stdout.flush()
