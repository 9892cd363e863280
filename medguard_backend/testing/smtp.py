"""A real SMTP server for tests (aiosmtpd), as a pytest plugin.

    pytest_plugins = ["medguard_backend.testing.smtp"]

    def test_reminder_email_arrives(smtp_server):
        ...  # send through Django's SMTP backend, which now points at the server
        [message] = smtp_server.wait_for(1)
        assert message["Subject"] == "Time for your medication"

The server runs in a thread of the test process. Worker subprocesses reach it through
``smtp_server.environ()``.
"""

from __future__ import annotations

import asyncio
import email.message
import email.policy
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from email.parser import BytesParser
from typing import TYPE_CHECKING

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

HOST = "127.0.0.1"


class ReceivedEmail(email.message.EmailMessage):
    """A message as the server stored it, with its SMTP envelope."""

    envelope_from: str
    rcpt_tos: list[str]


class SMTPTestServer:
    """What the ``smtp_server`` fixture yields. Attributes that steer the server may be
    changed at any time from the test."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        # RCPT TO for these addresses is answered "550 5.1.1 mailbox unavailable".
        self.refuse_recipients: set[str] = set()
        # When set (e.g. "451 4.3.0 try again later"), DATA gets this answer and the
        # message is not stored.
        self.fail_data_with: str | None = None
        self._messages: list[ReceivedEmail] = []
        self._connections = 0
        self._greeted: weakref.WeakSet[Session] = weakref.WeakSet()
        self._changed = threading.Condition()
        self._data_count = 0
        self._hold_index: int | None = None
        self._holding = threading.Event()
        self._released = threading.Event()
        self._client_killed = False
        self._controller: Controller | None = None
        self._sessions: list[SMTP] = []

    # --- what arrived ---------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedEmail]:
        """A snapshot of the stored messages, oldest first."""
        with self._changed:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """SMTP sessions opened so far (counted at EHLO/HELO)."""
        with self._changed:
            return self._connections

    def wait_for(self, count: int, timeout: float = 30) -> list[ReceivedEmail]:
        """Block until at least ``count`` messages arrived; return them all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= count, timeout):
                arrived = [(m["To"], m["Subject"]) for m in self._messages]
                raise AssertionError(
                    f"expected {count} messages within {timeout}s, got {len(arrived)}: {arrived}"
                )
            return list(self._messages)

    # --- steering ---------------------------------------------------------------------------

    def hold_after(self, count: int) -> None:
        """Let ``count`` more messages through, then hold the next one in DATA until
        ``release()``. If its client went away meanwhile (a worker killed mid-send), the
        held message is not stored."""
        self._holding.clear()
        self._released.clear()
        self._client_killed = False
        with self._changed:
            self._hold_index = self._data_count + count

    def wait_until_held(self, timeout: float = 30) -> None:
        if not self._holding.wait(timeout):
            raise AssertionError(f"no message was held within {timeout}s")

    def release(self, *, client_killed: bool = False) -> None:
        """Let the held message go on. ``client_killed``: its client was killed, so wait
        (up to 10 s) for the server to see the connection close before answering:
        SIGKILL returns before a process's sockets are closed, and the answer must not
        depend on which of the two the event loop happens to notice first."""
        self._client_killed = client_killed
        self._released.set()

    def drop_connections(self) -> None:
        """Close every open SMTP session from the server side, as a server restart or an
        idle timeout would."""
        controller = self._controller
        if controller is None:
            return
        done = threading.Event()

        def close_all() -> None:
            for session in self._sessions:
                if session.transport is not None:
                    session.transport.close()
            done.set()

        controller.loop.call_soon_threadsafe(close_all)
        done.wait(5)

    def environ(self) -> dict[str, str]:
        """Settings for a process started by the test (a Celery worker) to use this server."""
        return {"EMAIL_HOST": self.host, "EMAIL_PORT": str(self.port), "EMAIL_USE_TLS": "false"}

    # --- aiosmtpd handler hooks (run in the server's event loop thread) ------------------

    def _greeted_by(self, session: Session) -> None:
        with self._changed:
            if session not in self._greeted:
                self._greeted.add(session)
                self._connections += 1

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        self._greeted_by(session)
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        self._greeted_by(session)
        return f"250 {server.hostname}"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fail_data_with is not None:
            return self.fail_data_with
        with self._changed:
            index = self._data_count
            self._data_count += 1
        if index == self._hold_index:
            self._holding.set()
            # A threading.Event polled, not awaited: release() comes from the test's
            # thread, and other sessions must keep being served meanwhile. A client that
            # disconnects cancels this coroutine, and the message is never stored.
            while not self._released.is_set():
                await asyncio.sleep(0.02)
            deadline = time.monotonic() + (10 if self._client_killed else 0)
            while self._client_killed and time.monotonic() < deadline:
                if server.transport is None or server.transport.is_closing():
                    break
                await asyncio.sleep(0.02)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 client went away; message not accepted"
        self._store(envelope)
        return "250 OK"

    def _store(self, envelope: Envelope) -> None:
        content = envelope.original_content or b""
        message = BytesParser(ReceivedEmail, policy=email.policy.default).parsebytes(content)
        if not isinstance(message, ReceivedEmail):  # typeshed loses the _class given to the parser
            raise TypeError(type(message))
        message.envelope_from = envelope.mail_from or ""
        message.rcpt_tos = list(envelope.rcpt_tos)
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        server = self

        class _Controller(Controller):
            def factory(self) -> SMTP:
                smtp = super().factory()
                server._sessions.append(smtp)
                return smtp

        # Controller(port=0) does not report the port it got in every aiosmtpd version,
        # so ask the OS for a free one; another process may take it in between, so retry.
        for attempt in range(5):
            self.port = free_port()
            # A fixed server name: the default, socket.getfqdn(), can take seconds on a
            # machine without working reverse DNS.
            controller = _Controller(
                self, hostname=HOST, port=self.port, server_hostname="medguard-test-smtp"
            )
            try:
                controller.start()
            except OSError:
                if attempt == 4:
                    raise
                continue
            self._controller = controller
            return

    def stop(self) -> None:
        if self._controller is not None:
            self._released.set()
            self._controller.stop()
            self._controller = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[SMTPTestServer]:
    """A running SMTP server that Django's email settings point at."""
    server = SMTPTestServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.stop()
