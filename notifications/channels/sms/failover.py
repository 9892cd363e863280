"""``GatewaySMSTransport``: the gateways of ``SMS_BACKENDS``, tried in order.

The first gateway whose circuit is closed sends. A temporary refusal (5xx, 429, our
credentials or credit refused, unreachable) or an open circuit moves the message to the
next one; a permanent refusal (an invalid number) does not, since every gateway would
refuse it too; and an unknown outcome stops at once, because the message may already be
on its way and a second gateway would make it two.

Circuits are per worker process: a gateway failing ``SMS_CIRCUIT_FAILURES`` times in a
row is skipped for ``SMS_CIRCUIT_OPEN_SECONDS``, then given one message to prove itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..base import (
    OutcomeUnknown,
    OutgoingMessage,
    SendOutcome,
    SendReceipt,
    Transport,
    TransportError,
)
from ..http import in_parallel, send_with
from .gateway import SMSGateway
from .numbers import validate_phone_number

GATEWAYS: dict[str, str] = {
    "clickatell": "notifications.channels.sms.clickatell.Clickatell",
    "bulksms": "notifications.channels.sms.bulksms.BulkSMS",
    "africastalking": "notifications.channels.sms.africastalking.AfricasTalking",
    "twilio": "notifications.channels.sms.twilio.Twilio",
}


def gateway(name: str) -> SMSGateway:
    try:
        path = GATEWAYS[name]
    except KeyError:
        known = ", ".join(GATEWAYS)
        raise ImproperlyConfigured(f"SMS_BACKENDS names {name!r}; choose from {known}") from None
    gateway_class: type[SMSGateway] = import_string(path)
    return gateway_class()


class Circuit:
    """Consecutive temporary failures of one gateway in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0

    def is_open(self) -> bool:
        with self._lock:
            return time.monotonic() < self._open_until

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= settings.SMS_CIRCUIT_FAILURES:
                self._open_until = time.monotonic() + settings.SMS_CIRCUIT_OPEN_SECONDS
                # Half-open afterwards: one more failure opens it again.
                self._failures = settings.SMS_CIRCUIT_FAILURES - 1

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = 0.0


_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


def circuit_for(name: str) -> Circuit:
    with _circuits_lock:
        return _circuits.setdefault(name, Circuit())


def reset_circuits() -> None:
    """Close every circuit (tests; an operator after fixing a gateway's credentials)."""
    with _circuits_lock:
        _circuits.clear()


class GatewaySMSTransport(Transport):
    channel = "sms"

    def __init__(self) -> None:
        names = list(settings.SMS_BACKENDS)
        if not names:
            raise ImproperlyConfigured("GatewaySMSTransport needs SMS_BACKENDS")
        self.gateways = [gateway(name) for name in names]

    def send(self, message: OutgoingMessage) -> SendReceipt:
        validate_phone_number(message.to)
        refusals: list[str] = []
        for candidate in self.gateways:
            circuit = circuit_for(candidate.name)
            if circuit.is_open():
                refusals.append(f"{candidate.name}: circuit open")
                continue
            try:
                receipt = send_with(candidate, message)
            except OutcomeUnknown:
                raise
            except TransportError as error:
                if error.permanent:
                    raise
                circuit.failed()
                refusals.append(error.reason)
                continue
            circuit.succeeded()
            return receipt
        raise TransportError("; ".join(refusals) or "no SMS gateway", permanent=False)

    def send_batch(self, messages: Iterable[OutgoingMessage]) -> list[SendOutcome]:
        return in_parallel(self.send, messages)
