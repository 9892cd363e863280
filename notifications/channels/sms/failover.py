"""``GatewaySMSTransport``: the gateways of ``SMS_BACKENDS``, tried in order.

The first gateway whose circuit is closed sends. A temporary refusal (5xx, 429, our
credentials or credit refused, unreachable) or an open circuit moves the message to the
next one; a permanent refusal (an invalid number) does not, since every gateway would
refuse it too; and an unknown outcome stops at once, because the message may already be
on its way and a second gateway would make it two.

A batch goes in groups of what the first gateway takes per request (Clickatell and
BulkSMS document a request of many distinct messages, each answered on its own: up to 100
here; Africa's Talking and Twilio one). Failover is per message within a group: the next
gateway gets, in one request, the messages the previous one did not settle. Measured with
``bench channels`` (one worker, Clickatell answering in 100 ms, 2026-11-30, load 2-6): one
message per request 329-381 SMS/s at 2.2-2.7 ms of worker CPU each (httpx and a thread per
request); groups of 100, 1,268-2,073 SMS/s at 0.22-0.28 ms.

Circuits are per worker process: a gateway failing ``SMS_CIRCUIT_FAILURES`` times in a
row is skipped for ``SMS_CIRCUIT_OPEN_SECONDS``, then given one message to prove itself.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

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
from ..http import run_parallel, send_group_with
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
        [outcome] = self.send_group([message])
        if isinstance(outcome, TransportError):
            raise outcome
        return outcome

    def send_batch(self, messages: Iterable[OutgoingMessage]) -> list[SendOutcome]:
        """Every message, in groups of what the first gateway takes per request (100 for
        Clickatell and BulkSMS, 1 for the others), each group handed to a send thread as
        soon as it is full: the next group is rendered while the previous ones wait for
        their answers."""
        size = self.gateways[0].max_per_request
        outcomes: list[SendOutcome | None] = []

        def store(group: list[tuple[int, OutgoingMessage]]) -> None:
            sent = self.send_group([message for _index, message in group])
            for (index, _message), outcome in zip(group, sent, strict=True):
                outcomes[index] = outcome

        def groups() -> Iterator[Callable[[], None]]:
            group: list[tuple[int, OutgoingMessage]] = []
            for message in messages:
                outcomes.append(None)
                try:
                    validate_phone_number(message.to)
                except TransportError as error:
                    outcomes[-1] = error
                    continue
                group.append((len(outcomes) - 1, message))
                if len(group) >= size:
                    yield functools.partial(store, group)
                    group = []
            if group:
                yield functools.partial(store, group)

        run_parallel(groups())
        return [outcome for outcome in outcomes if outcome is not None]

    def send_group(self, messages: Sequence[OutgoingMessage]) -> list[SendOutcome]:
        """``messages`` (valid numbers) through the gateways in order: each gateway gets
        the messages not settled yet. A message is settled by a receipt, a permanent
        refusal of that message (an invalid number: every gateway would refuse it) or an
        unknown outcome (it may be on its way: a second gateway would make it two); a
        temporary refusal, of the message or of the whole request (5xx, 429, timeout
        before the request was written), leaves it to the next gateway."""
        outcomes: list[SendOutcome | None] = [None] * len(messages)
        refusals: list[str] = []
        for candidate in self.gateways:
            waiting = [index for index, outcome in enumerate(outcomes) if outcome is None]
            if not waiting:
                break
            circuit = circuit_for(candidate.name)
            if circuit.is_open():
                refusals.append(f"{candidate.name}: circuit open")
                continue
            answered = self._try(candidate, [messages[index] for index in waiting])
            if isinstance(answered, TransportError):
                circuit.failed()
                refusals.append(answered.reason)
                continue
            for index, outcome in zip(waiting, answered, strict=True):
                # Settled: taken, refused for good, or possibly on its way.
                if isinstance(outcome, SendReceipt | OutcomeUnknown) or outcome.permanent:
                    outcomes[index] = outcome
                elif outcome.reason not in refusals:
                    refusals.append(outcome.reason)
            if any(isinstance(outcome, SendReceipt) for outcome in answered):
                circuit.succeeded()
            # No answer is no verdict on the gateway's health (as before groups).
            elif any(
                isinstance(o, TransportError)
                and not o.permanent
                and not isinstance(o, OutcomeUnknown)
                for o in answered
            ):
                circuit.failed()
        refused = TransportError("; ".join(refusals) or "no SMS gateway", permanent=False)
        return [refused if outcome is None else outcome for outcome in outcomes]

    @staticmethod
    def _try(
        candidate: SMSGateway, messages: Sequence[OutgoingMessage]
    ) -> list[SendOutcome] | TransportError:
        """The gateway's outcome per message, or the temporary error of a whole request
        it refused. A request refused as a whole for good (BulkSMS names one bad number
        and takes none) is sent again one message per request to learn which; an unknown
        outcome of a whole request is every message's."""
        try:
            return send_group_with(candidate, messages)
        except OutcomeUnknown as error:
            return [error] * len(messages)
        except TransportError as error:
            if not error.permanent:
                return error
            if len(messages) == 1:
                return [error]
        outcomes: list[SendOutcome] = []
        for message in messages:
            try:
                outcomes.extend(send_group_with(candidate, [message]))
            except TransportError as error:
                outcomes.append(error)
        return outcomes
