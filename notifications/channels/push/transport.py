"""``ProviderPushTransport``: every device of every message in a batch, at once.

Expo messages of the whole batch go in chunks of 100 per request, each chunk sent as soon
as it is rendered; the chunks, the FCM requests (one per Android token that is not Expo's)
and the Web Push requests all in flight together. A delivery is sent if any of its devices took it;
devices the provider called gone come back in ``dead_device_ids``. When none took it the
worst answer decides: an unknown outcome (a chunk that may have gone out) before a
temporary failure, and permanent only when every device was refused for good.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..base import (
    OutcomeUnknown,
    OutgoingMessage,
    PushTarget,
    SendOutcome,
    SendReceipt,
    Transport,
    TransportError,
)
from ..http import run_parallel
from .development import require_targets
from .expo import CHUNK, Expo, Ticket, expo_message
from .fcm import Fcm, RegistrationGone
from .webpush import SubscriptionGone, WebPush


@dataclass
class _Progress:
    """What one message's devices came to so far."""

    tickets: list[tuple[int, str]] = field(default_factory=list)
    web_sent: int = 0
    fcm_names: list[str] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    errors: list[TransportError] = field(default_factory=list)

    def outcome(self) -> SendOutcome:
        if self.tickets or self.fcm_names or self.web_sent:
            if self.tickets:
                provider, first = "expo", self.tickets[0][1]
            elif self.fcm_names:
                provider, first = "fcm", self.fcm_names[0]
            else:
                provider, first = "webpush", ""
            return SendReceipt(
                provider_message_id=first,
                provider=provider,
                dead_device_ids=tuple(self.dead),
                push_tickets=tuple(self.tickets),
            )
        unknown = [e for e in self.errors if isinstance(e, OutcomeUnknown)]
        if unknown:
            return unknown[0]
        temporary = [e for e in self.errors if not e.permanent]
        if temporary:
            return temporary[0]
        reason = self.errors[0].reason if self.errors else "no active push device"
        # Carried on a permanent error too: the caller deactivates the gone devices.
        return TransportError(reason, permanent=True, dead_device_ids=tuple(self.dead))


class ProviderPushTransport(Transport):
    channel = "push"

    def __init__(self) -> None:
        self.expo = Expo()
        self.fcm = Fcm()
        self.webpush = WebPush()

    def send(self, message: OutgoingMessage) -> SendReceipt:
        [outcome] = self.send_batch([message])
        if isinstance(outcome, TransportError):
            raise outcome
        return outcome

    def send_batch(self, messages: Iterable[OutgoingMessage]) -> list[SendOutcome]:
        """Every device of ``messages``; each Expo chunk is handed to a send thread as
        soon as its 100 messages are rendered (and each FCM or Web Push request at once),
        so rendering the next chunk overlaps the chunks already waiting for Expo."""
        progress: list[_Progress] = []

        def calls() -> Iterator[Callable[[], None]]:
            expo_entries: list[tuple[int, int]] = []  # (message index, device id)
            expo_payloads: list[dict[str, object]] = []
            for message in messages:
                index = len(progress)
                progress.append(_Progress())
                try:
                    require_targets(message)
                except TransportError as error:
                    progress[index].errors.append(error)
                    continue
                for target in message.push_targets:
                    if target.kind == "expo":
                        expo_entries.append((index, target.device_id))
                        expo_payloads.append(
                            expo_message(target, message.subject, message.text, message.delivery_id)
                        )
                        if len(expo_payloads) == CHUNK:
                            yield functools.partial(
                                self._expo_chunk, progress, expo_entries, expo_payloads
                            )
                            expo_entries, expo_payloads = [], []
                    elif target.kind == "fcm":
                        yield functools.partial(self._fcm, progress[index], target, message)
                    else:
                        yield functools.partial(self._web, progress[index], target, message)
            if expo_payloads:
                yield functools.partial(self._expo_chunk, progress, expo_entries, expo_payloads)

        run_parallel(calls())
        return [item.outcome() for item in progress]

    def _expo_chunk(
        self,
        progress: list[_Progress],
        entries: list[tuple[int, int]],
        payloads: list[dict[str, object]],
    ) -> None:
        try:
            tickets: list[Ticket] = self.expo.send_chunk(payloads)
        except TransportError as error:
            for index in {index for index, _device in entries}:
                progress[index].errors.append(error)
            return
        per_message: dict[int, list[tuple[int, Ticket]]] = defaultdict(list)
        for (index, device_id), ticket in zip(entries, tickets, strict=True):
            per_message[index].append((device_id, ticket))
        for index, results in per_message.items():
            for device_id, ticket in results:
                if ticket.ticket_id:
                    progress[index].tickets.append((device_id, ticket.ticket_id))
                elif ticket.device_gone:
                    progress[index].dead.append(device_id)
                    progress[index].errors.append(
                        TransportError("expo: DeviceNotRegistered", permanent=True)
                    )
                else:
                    progress[index].errors.append(
                        TransportError(f"expo: {ticket.error}", permanent=True)
                    )

    def _fcm(self, progress: _Progress, target: PushTarget, message: OutgoingMessage) -> None:
        try:
            name = self.fcm.send(target, message.subject, message.text, message.delivery_id)
        except RegistrationGone as error:
            progress.dead.append(target.device_id)
            progress.errors.append(error)
        except TransportError as error:
            progress.errors.append(error)
        else:
            progress.fcm_names.append(name)

    def _web(self, progress: _Progress, target: PushTarget, message: OutgoingMessage) -> None:
        try:
            self.webpush.send(target, message.subject, message.text, message.delivery_id)
        except SubscriptionGone as error:
            progress.dead.append(target.device_id)
            progress.errors.append(error)
        except TransportError as error:
            progress.errors.append(error)
        else:
            progress.web_sent += 1
