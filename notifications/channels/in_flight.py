"""Many provider requests in flight from one thread: an asyncio loop and an async httpx
client kept per thread, and a bounded number of requests awaiting their answers.

A provider answering in 100 ms allows ten sends a second one after the other, so a batch
keeps up to ``PROVIDER_MAX_IN_FLIGHT`` requests waiting at once. Done with one thread per
request (``http.run_parallel``), the threads fight the renderer for the GIL: a thread whose
answer has come waits for the interpreter's switch interval (5 ms) before it may read it,
so a worker that renders while it sends gets a few hundred answers a second at most. Here
the requests are coroutines on this thread's loop: rendering the next message and reading
the answers take turns in one thread, and every answer that has come is read at the next
turn. BENCH_FIGURE

The loop and its client live as long as the thread (a Celery worker's task thread), so
connections stay open from one batch to the next; a forked process builds its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import httpx
from django.conf import settings

from .base import OutgoingMessage, SendOutcome, SendReceipt, TransportError
from .http import (
    HttpProvider,
    HttpService,
    ProviderAnswer,
    ProviderRequest,
    failure_of,
    request_arguments,
)

T = TypeVar("T")


class _ThreadLoop(threading.local):
    pid = 0
    loop: asyncio.AbstractEventLoop | None = None
    clients: dict[tuple[bool, int, int, int], httpx.AsyncClient]


_local = _ThreadLoop()


def _loop() -> asyncio.AbstractEventLoop:
    """This thread's loop; a process forked from one that had a loop makes its own (the
    inherited one shares the parent's selector)."""
    if _local.loop is None or _local.loop.is_closed() or _local.pid != os.getpid():
        _local.loop = asyncio.new_event_loop()
        _local.clients = {}
        _local.pid = os.getpid()
    return _local.loop


def _client(http2: bool) -> httpx.AsyncClient:
    """This thread's async client (one for HTTP/2 providers, one for the others), keyed by
    the settings it was built from as ``http.shared_client`` is."""
    _loop()
    key = (
        http2,
        settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
        settings.PROVIDER_READ_TIMEOUT_SECONDS,
        settings.PROVIDER_MAX_IN_FLIGHT,
    )
    client = _local.clients.get(key)
    if client is None:
        in_flight = settings.PROVIDER_MAX_IN_FLIGHT
        client = _local.clients[key] = httpx.AsyncClient(
            http2=http2,
            timeout=httpx.Timeout(
                settings.PROVIDER_READ_TIMEOUT_SECONDS,
                connect=settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
                pool=settings.PROVIDER_READ_TIMEOUT_SECONDS,
            ),
            limits=httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight),
            headers={"User-Agent": "MedGuard-SA-Notifications"},
        )
    return client


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on this thread's loop until it is done. Called from synchronous code
    (a task, a view); if it is interrupted (the soft time limit), what it started is
    cancelled before the interruption goes on, so the next batch finds the loop idle."""
    loop = _loop()
    task = loop.create_task(work)
    try:
        return loop.run_until_complete(task)
    except BaseException:
        task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(task)
        raise


async def exchange(provider: HttpService, request: ProviderRequest) -> ProviderAnswer:
    """``http.exchange``, awaited: the same outcomes for the same failures."""
    client = _client(provider.http2)
    try:
        response = await client.request(request.method, request.url, **request_arguments(request))
    except httpx.HTTPError as error:
        raise failure_of(provider, error) from None
    return ProviderAnswer(response.status_code, response.headers, response.content)


async def send_with(provider: HttpProvider, message: OutgoingMessage) -> SendReceipt:
    answer = await exchange(provider, provider.build_request(message))
    receipt = provider.read_answer(message, answer)
    return receipt if receipt.provider else replace(receipt, provider=provider.name)


def send_all(
    send: Callable[[OutgoingMessage], Awaitable[SendReceipt]],
    messages: Iterable[OutgoingMessage],
) -> list[SendOutcome]:
    """``send`` for every message, up to ``PROVIDER_MAX_IN_FLIGHT`` awaiting their answers
    at once; one outcome per message, in order (a raised ``TransportError`` is that
    message's outcome).

    ``messages`` may be a generator that renders each message as it is taken. It is taken
    here, with the loop stopped (rendering may query the database, which Django refuses
    inside a running loop); after each message the loop gets a turn, in which the new
    request is written and the answers that have come are read."""
    loop = _loop()
    limit = settings.PROVIDER_MAX_IN_FLIGHT
    started: list[asyncio.Task[SendOutcome]] = []
    waiting: set[asyncio.Task[SendOutcome]] = set()
    try:
        for message in messages:
            if len(waiting) >= limit:
                _done, waiting = loop.run_until_complete(
                    asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                )
            task = loop.create_task(_outcome(send(message)))
            started.append(task)
            waiting.add(task)
            loop.run_until_complete(asyncio.sleep(0))
            waiting = {task for task in waiting if not task.done()}
        if waiting:
            loop.run_until_complete(asyncio.wait(waiting))
        return [task.result() for task in started]
    except BaseException:
        # Interrupted (the time limit): nothing of this batch is left running on the loop.
        for task in started:
            task.cancel()
        if started:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.wait(started))
        raise


async def _outcome(sending: Awaitable[SendReceipt]) -> SendOutcome:
    try:
        return await sending
    except TransportError as error:
        return error
