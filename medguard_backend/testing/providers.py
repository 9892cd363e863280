"""Loopback HTTP servers that stand in for the SMS and push providers, as a pytest plugin.

    pytest_plugins = ["medguard_backend.testing.providers"]

    def test_clickatell_takes_a_reminder(provider_server, settings):
        settings.CLICKATELL_API_URL = provider_server.url
        ...
        [request] = provider_server.requests_to("/v1/message")

A real socket server (asyncio, HTTP/1.1 with keep-alive) in a thread of the test process.
Each provider's documented answers are in ``medguard_backend.testing.provider_answers``;
a test steers the server with ``script(path, *answers)``: the next requests to ``path``
get those answers in turn (an ``Answer``, ``DROP`` to close the connection after reading
the request, ``HANG`` to never answer), then the default answer again. ``delay`` makes
every answer wait, as a distant provider does (the channel benchmark uses 100 ms);
``peak_in_flight`` says how many requests a client had waiting for an answer at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # dict/list: sent as JSON; bytes/str: as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        if self.body is None:
            return b"", "text/plain"
        return json.dumps(self.body).encode(), self.headers.get("Content-Type", "application/json")


DROP = "drop"  # read the request, then close the connection without a word
HANG = "hang"  # read the request and never answer (the client's read timeout fires)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


Responder = Callable[[ReceivedRequest], Answer]


def _under(path: str, prefix: str) -> bool:
    """``/v1/message`` is under ``/v1/message`` and ``/v1/message/x`` but not under
    ``/v1/messages`` (Clickatell and BulkSMS share a stand-in)."""
    return path == prefix or path.startswith(prefix if prefix.endswith("/") else prefix + "/")


class ProviderServer:
    """What the ``provider_server`` fixture yields."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.delay = 0.0
        self.requests: list[ReceivedRequest] = []
        self.connections = 0
        # Requests read and not yet answered, now and at most: what a client keeps in flight.
        self.in_flight = 0
        self.peak_in_flight = 0
        self._routes: list[tuple[str, str, Responder]] = []
        self._scripts: dict[str, deque[Answer | str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._hanging: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def route(self, method: str, path_prefix: str, responder: Responder) -> None:
        """Answer requests whose path starts with ``path_prefix`` with ``responder``;
        later routes win over earlier ones."""
        self._routes.insert(0, (method, path_prefix, responder))

    def script(self, path_prefix: str, *answers: Answer | str) -> None:
        with self._lock:
            self._scripts[path_prefix].extend(answers)

    def requests_to(self, path_prefix: str) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if _under(r.path, path_prefix)]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self._scripts.clear()

    # --- the server itself ---

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, 0, backlog=1024)
            )
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            # Close the connections still open (kept alive, hanging) before the loop.
            server.close()
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="provider-server", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _next(self, request: ReceivedRequest) -> Answer | str:
        with self._lock:
            self.requests.append(request)
            for prefix, queue in self._scripts.items():
                if _under(request.path, prefix) and queue:
                    return queue.popleft()
        for method, prefix, responder in self._routes:
            if request.method == method and _under(request.path, prefix):
                return responder(request)
        return Answer(404, {"error": "no stand-in for this path"})

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                answer = self._next(request)
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    if self.delay:
                        await asyncio.sleep(self.delay)
                finally:
                    self.in_flight -= 1
                if answer == DROP:
                    break
                if answer == HANG:
                    self._hanging.append(writer)
                    await asyncio.sleep(3600)
                    break
                if not isinstance(answer, Answer):
                    raise TypeError(f"not an Answer: {answer!r}")
                body, content_type = answer.encoded()
                head = [f"HTTP/1.1 {answer.status} Stand-in", f"Content-Type: {content_type}"]
                head += [f"{k}: {v}" for k, v in answer.headers.items() if k != "Content-Type"]
                head.append(f"Content-Length: {len(body)}")
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> ReceivedRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    parts = urlsplit(target)
    return ReceivedRequest(method, parts.path, dict(parse_qsl(parts.query)), headers, body)


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    from .provider_answers import install_default_routes

    server = ProviderServer()
    install_default_routes(server)
    server.start()
    try:
        yield server
    finally:
        server.stop()
