"""The one HTTP base every provider transport stands on.

A provider class only says how to build its request (``build_request``) and what its
answer means (``read_answer``) — or, for one that documents several distinct messages per
request (``MultiMessageProvider``), the request for a group and each message's outcome in
the answer; this module owns the rest, once: one pooled httpx client
per worker process (keep-alive, HTTP/2 where the provider speaks it), connect and read
timeouts, many requests in flight for a batch, and the line between the four outcomes:

- sent: the provider answered that it took the message (a receipt with its id);
- temporary: it said "not now" (429, 5xx) or never saw the request (connection refused,
  connect timeout): retried with the pipeline's back-off, or the next SMS gateway;
- permanent: it refused the message itself (an invalid number): failed with its reason;
- unknown: the request was written and no answer came (read timeout, connection dropped):
  ``OutcomeUnknown``, never resent blindly (see ``notifications.receipts.reconcile``).
"""

from __future__ import annotations

import abc
import functools
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

import httpx
from django.conf import settings

from .base import OutcomeUnknown, OutgoingMessage, SendOutcome, SendReceipt, TransportError

T = TypeVar("T")


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    auth: tuple[str, str] | None = None


@dataclass(frozen=True)
class ProviderAnswer:
    status_code: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a proxy's HTML error page)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class HttpService:
    """A provider reached over HTTP: its name (in reasons and receipts), whether it speaks
    HTTP/2, and the answers every HTTP API shares."""

    name: ClassVar[str]
    # Only where the provider's production host speaks it: multiplexing many sends over
    # one connection is what HTTP/2 buys; a plain-HTTP loopback stand-in speaks 1.1.
    http2: ClassVar[bool] = False

    def refusal(self, answer: ProviderAnswer, detail: str = "") -> TransportError:
        """A temporary error for the answers that say nothing about the message: rate
        limits, server errors and our own credentials refused (a configuration problem
        that the next gateway may not have). Anything else is left to the subclass."""
        suffix = f": {detail}" if detail else ""
        code = answer.status_code
        if code == 429:
            return TransportError(f"{self.name} rate limited (HTTP 429){suffix}", permanent=False)
        if code in (401, 403):
            return TransportError(
                f"{self.name} refused our credentials (HTTP {code}){suffix}", permanent=False
            )
        if code >= 500:
            return TransportError(
                f"{self.name} server error (HTTP {code}){suffix}", permanent=False
            )
        return TransportError(f"{self.name} answered HTTP {code}{suffix}", permanent=False)

    def unreadable(self, answered: int, sent: int) -> OutcomeUnknown:
        """A request taken (2xx) whose answer cannot be matched to its messages: each may
        have gone out, so none is resent blindly."""
        return OutcomeUnknown(
            f"{self.name} answered {answered} results for {sent} messages", provider=self.name
        )


class HttpProvider(HttpService, abc.ABC):
    """A provider that takes one message per request (the SMS gateways): a subclass only
    builds the request and reads the answer, raising ``TransportError`` for a refusal."""

    @abc.abstractmethod
    def build_request(self, message: OutgoingMessage) -> ProviderRequest:
        """The request that sends ``message``."""

    @abc.abstractmethod
    def read_answer(self, message: OutgoingMessage, answer: ProviderAnswer) -> SendReceipt:
        """The receipt for an answer that took the message; raise otherwise."""

    # How many distinct messages (each its own recipient and text) one request may carry:
    # 1 unless the provider documents a request of several, each answered on its own.
    max_per_request: ClassVar[int] = 1


class MultiMessageProvider(HttpProvider):
    """A provider whose documented send request carries several distinct messages, each
    with its own recipient and text, and whose answer says per message whether it was
    taken and under which id (Clickatell's ``messages``, BulkSMS's array).

    A subclass builds the request for a group and reads one outcome per message from the
    answer; it raises ``TransportError`` for an answer about the whole request (429, 5xx,
    our credentials). One message is a group of one.
    """

    # Bounded so that a request stays small (about 25 kB) and a lost answer leaves at
    # most this many messages unknown.
    max_per_request = 100

    @abc.abstractmethod
    def build_group_request(self, messages: Sequence[OutgoingMessage]) -> ProviderRequest:
        """The request that sends ``messages``."""

    @abc.abstractmethod
    def read_group_answer(
        self, messages: Sequence[OutgoingMessage], answer: ProviderAnswer
    ) -> list[SendOutcome]:
        """One outcome per message of ``messages``, in order; raise for the whole request."""

    def build_request(self, message: OutgoingMessage) -> ProviderRequest:
        return self.build_group_request([message])

    def read_answer(self, message: OutgoingMessage, answer: ProviderAnswer) -> SendReceipt:
        [outcome] = self.read_group_answer([message], answer)
        if isinstance(outcome, TransportError):
            raise outcome
        return outcome


# --- The pooled client: one per worker process ---------------------------------------------

_clients: dict[tuple[bool, int, int, int], httpx.Client] = {}
_clients_pid = 0
_clients_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_size = 0


def shared_client(*, http2: bool = False) -> httpx.Client:
    """The process's client (one for HTTP/2 providers, one for the others). Celery's
    prefork workers fork after import: a client inherited from the parent would share its
    sockets, so a new process builds its own."""
    global _clients_pid, _executor
    with _clients_lock:
        if _clients_pid != os.getpid():
            _clients.clear()
            _executor = None
            _clients_pid = os.getpid()
        # Keyed by the settings it was built from, so that changed settings (tests, the
        # benchmark) get a client of their own rather than an old one's timeouts.
        key = (
            http2,
            settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
            settings.PROVIDER_READ_TIMEOUT_SECONDS,
            settings.PROVIDER_MAX_IN_FLIGHT,
        )
        client = _clients.get(key)
        if client is None:
            in_flight = settings.PROVIDER_MAX_IN_FLIGHT
            client = httpx.Client(
                http2=http2,
                timeout=httpx.Timeout(
                    settings.PROVIDER_READ_TIMEOUT_SECONDS,
                    connect=settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
                    # Waiting for a free pooled connection is not the provider's fault.
                    pool=settings.PROVIDER_READ_TIMEOUT_SECONDS,
                ),
                limits=httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight),
                headers={"User-Agent": "MedGuard-SA-Notifications"},
            )
            _clients[key] = client
        return client


def _shared_executor() -> ThreadPoolExecutor:
    """The process's send threads, PROVIDER_MAX_IN_FLIGHT of them; rebuilt when the setting
    changes (tests, the benchmark), as the client is."""
    global _executor, _executor_size
    shared_client()  # resets the executor too in a freshly forked process
    size = settings.PROVIDER_MAX_IN_FLIGHT
    with _clients_lock:
        if _executor is None or _executor_size != size:
            if _executor is not None:
                _executor.shutdown(wait=False)
            _executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="provider-send")
            _executor_size = size
        return _executor


def exchange(provider: HttpService, request: ProviderRequest) -> ProviderAnswer:
    """Make one request; a failure to get an answer becomes a temporary error when the
    request cannot have reached the provider and ``OutcomeUnknown`` when it may have."""
    client = shared_client(http2=provider.http2)
    try:
        response = client.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            json=request.json,
            data=dict(request.form) if request.form is not None else None,
            content=request.content,
            auth=request.auth,
        )
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise TransportError(
            f"{provider.name} unreachable: {type(error).__name__}", permanent=False
        ) from None
    except (httpx.WriteError, httpx.WriteTimeout) as error:
        # The request was not written whole, so the provider cannot have acted on it.
        raise TransportError(
            f"{provider.name} request not sent: {type(error).__name__}", permanent=False
        ) from None
    except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as error:
        raise OutcomeUnknown(
            f"{provider.name} gave no answer: {type(error).__name__}", provider=provider.name
        ) from None
    except httpx.HTTPError as error:
        raise OutcomeUnknown(
            f"{provider.name} HTTP error: {type(error).__name__}", provider=provider.name
        ) from None
    return ProviderAnswer(response.status_code, response.headers, response.content)


def send_with(provider: HttpProvider, message: OutgoingMessage) -> SendReceipt:
    answer = exchange(provider, provider.build_request(message))
    receipt = provider.read_answer(message, answer)
    return receipt if receipt.provider else replace(receipt, provider=provider.name)


def send_group_with(
    provider: HttpProvider, messages: Sequence[OutgoingMessage]
) -> list[SendOutcome]:
    """Send ``messages`` to ``provider``: in one request where it takes several (up to its
    ``max_per_request``), else one request each, in flight together. One outcome per
    message; ``TransportError`` (or ``OutcomeUnknown``) raised for a whole request that
    failed, none of its messages being answered."""
    if isinstance(provider, MultiMessageProvider):
        answer = exchange(provider, provider.build_group_request(messages))
        return [
            replace(o, provider=provider.name)
            if isinstance(o, SendReceipt) and not o.provider
            else o
            for o in provider.read_group_answer(messages, answer)
        ]
    if len(messages) == 1:
        return [send_with(provider, messages[0])]

    def one(message: OutgoingMessage) -> SendOutcome:
        try:
            return send_with(provider, message)
        except TransportError as error:  # OutcomeUnknown too: that message alone
            return error

    # A group failing over to a gateway of one message per request (Twilio after
    # Clickatell): threads of their own, since this runs in one of the shared send threads
    # (a nested wait on those could starve); the pooled client still bounds the requests.
    threads = min(len(messages), settings.PROVIDER_MAX_IN_FLIGHT)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="provider-single") as pool:
        return list(pool.map(one, messages))


def run_parallel(calls: Iterable[Callable[[], T]]) -> list[T]:
    """Run ``calls`` with up to PROVIDER_MAX_IN_FLIGHT at once; results in order.

    ``calls`` may be a generator: each call is handed to a thread as soon as it is made,
    so building the next message overlaps the requests already in flight.

    Threads pay: `dev.py bench channels` (one worker, Clickatell stand-in answering in
    100 ms, 2026-11-30 17:25 UTC, load average 4.8-5.7 on the shared 2 cores) sent 9.3 SMS/s
    with PROVIDER_MAX_IN_FLIGHT=1 and 267-283 SMS/s with 64 (~1.9 ms of worker CPU per SMS
    either way). An asyncio loop with httpx's async client instead measured no better
    (339-399 SMS/s against 319-348 for these threads, back to back) and, without sniffio
    installed, worse (145-171 SMS/s: httpcore retries the failed import on every request).
    """
    return list(_shared_executor().map(lambda call: call(), calls))


def in_parallel(send: Any, messages: Iterable[OutgoingMessage]) -> list[SendOutcome]:
    """``send`` applied to every message with up to PROVIDER_MAX_IN_FLIGHT at once; a
    raised ``TransportError`` becomes that message's outcome."""

    def one(message: OutgoingMessage) -> SendOutcome:
        try:
            result: SendReceipt = send(message)
        except TransportError as error:
            return error
        return result

    return run_parallel(functools.partial(one, message) for message in messages)
