"""The PostgreSQL backend's health check: no round trip for a healthy connection, a
connection the server has ended is replaced before a request uses it, and a connection
with an unasked message waiting is asked (and kept)."""

from __future__ import annotations

import select
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import close_old_connections, connection

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the PostgreSQL backend; the SQLite run has no server connection to check",
    ),
    # The connection is closed and replaced: no test transaction may hold it.
    pytest.mark.django_db(transaction=True),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def other_session() -> Iterator[psycopg.Connection]:
    """A second session on the same server, to act on the first one from outside."""
    params = connection.get_connection_params()
    session = psycopg.connect(
        **{key: value for key, value in params.items() if key != "cursor_factory"},
        autocommit=True,
    )
    try:
        yield session
    finally:
        session.close()


def wait_until_readable(timeout: float = 5.0) -> None:
    readable, _, _ = select.select([connection.connection.fileno()], [], [], timeout)
    assert readable, "the server sent nothing within the timeout"


def test_a_healthy_connection_is_checked_without_a_message_to_the_server() -> None:
    first = backend_pid()
    close_old_connections()  # what a new request does: the next query checks first
    with tempfile.TemporaryDirectory() as directory:
        trace = Path(directory) / "libpq.trace"
        with trace.open("w") as output:
            connection.connection.pgconn.trace(output.fileno())
            try:
                connection.close_if_health_check_failed()
            finally:
                connection.connection.pgconn.untrace()
        assert trace.read_text() == ""  # libpq traces every message it sends or receives
    assert connection.health_check_done
    assert backend_pid() == first


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(
    other_session: psycopg.Connection,
) -> None:
    first = backend_pid()
    terminated = other_session.execute("SELECT pg_terminate_backend(%s, 5000)", [first]).fetchone()
    assert terminated == (True,)
    wait_until_readable()

    close_old_connections()
    replacement = backend_pid()  # no error: the check closed the dead connection first

    assert replacement != first


def test_an_unasked_message_is_settled_by_asking_and_the_connection_is_kept(
    other_session: psycopg.Connection,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("LISTEN medguard_health_check_test")
    first = backend_pid()
    other_session.execute("NOTIFY medguard_health_check_test")
    wait_until_readable()

    assert connection.is_usable()
    close_old_connections()
    assert backend_pid() == first
