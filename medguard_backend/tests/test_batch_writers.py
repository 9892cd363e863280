"""Batches written from writer threads, or read ahead in a reader thread, on PostgreSQL;
in the caller's thread elsewhere."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from accounts.models import User
from medguard_backend.batch_writers import BatchWriters, ReadAhead
from medguard_backend.testing.factories import UserFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db(transaction=True)
ON_POSTGRESQL = connection.vendor == "postgresql"


def write_notification(batch: int) -> str:
    Notification.objects.create(title=f"batch {batch}", notification_type="general")
    return threading.current_thread().name


def submit_all(writers: BatchWriters[int], count: int) -> None:
    for batch in range(count):
        writers.submit(batch)


def test_every_batch_is_written_and_committed_by_the_writers() -> None:
    threads: list[str] = []

    with BatchWriters(lambda batch: threads.append(write_notification(batch)), 2) as writers:
        for batch in range(10):
            writers.submit(batch)

    assert writers.threaded is ON_POSTGRESQL
    assert sorted(Notification.objects.values_list("title", flat=True)) == sorted(
        f"batch {n}" for n in range(10)
    )
    if ON_POSTGRESQL:
        assert set(threads) <= {"batch-writer-0", "batch-writer-1"}
    else:
        assert set(threads) == {threading.current_thread().name}


def test_the_first_error_reaches_the_caller_and_later_batches_are_dropped() -> None:
    def write(batch: int) -> None:
        if batch == 3:
            raise ValueError("batch 3 is bad")
        write_notification(batch)

    with pytest.raises(ValueError, match="batch 3 is bad"), BatchWriters(write, 2) as writers:
        submit_all(writers, 50)

    titles = Notification.objects.values_list("title", flat=True)
    written = {int(title.split()[1]) for title in titles}
    assert 3 not in written
    # Batches already taken by a writer finish; the producer stops at its next submit.
    assert len(written) < 10
    if not writers.threaded:
        assert written == {0, 1, 2}


def test_inside_a_transaction_batches_are_written_in_the_callers_thread() -> None:
    threads: list[str] = []

    with transaction.atomic():
        with BatchWriters(lambda batch: threads.append(write_notification(batch)), 2) as writers:
            for batch in range(3):
                writers.submit(batch)
        assert Notification.objects.count() == 3  # visible inside: written on this connection

    assert writers.threaded is False
    assert threads == [threading.current_thread().name] * 3


def test_one_thread_means_no_threads() -> None:
    with BatchWriters(write_notification, 1) as writers:
        writers.submit(1)

    assert writers.threaded is False
    assert Notification.objects.count() == 1


def test_a_writer_closes_its_connection_when_done() -> None:
    UserFactory()  # the writers read committed rows through their own connections
    opened: list[object] = []

    def write(batch: int) -> None:
        write_notification(batch)
        opened.append(connections[DEFAULT_DB_ALIAS])  # this thread's own wrapper

    with BatchWriters(write, 2) as writers:
        for batch in range(4):
            writers.submit(batch)

    if ON_POSTGRESQL:
        assert opened
        assert all(wrapper.connection is None for wrapper in opened)  # type: ignore[attr-defined]


def numbered_users(count: int) -> Iterator[list[str]]:
    """Reads committed users, a page at a time (what a reader thread does for a fan-out)."""
    for start in range(0, count, 2):
        yield list(
            User.objects.order_by("username").values_list("username", flat=True)[start : start + 2]
        )


def test_read_ahead_yields_every_batch_in_order() -> None:
    names = sorted(UserFactory().username for _ in range(5))

    with ReadAhead(numbered_users(5), 2) as batches:
        pages = list(batches)

    assert [name for page in pages for name in page] == names
    assert len(pages) == 3


def test_read_ahead_raises_the_readers_error_in_the_caller() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise LookupError("no such page")

    seen = []
    with pytest.raises(LookupError, match="no such page"), ReadAhead(failing(), 2) as batches:
        seen.extend(batches)

    assert seen == [1]


def test_read_ahead_stops_its_reader_when_the_caller_fails() -> None:
    produced = []

    def endless() -> Iterator[int]:
        for number in itertools.count():
            produced.append(number)
            yield number

    def write_until_failure(batches: Iterator[int]) -> None:
        for number in batches:
            if number == 2:
                raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError), ReadAhead(endless(), 2) as batches:
        write_until_failure(batches)

    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count  # the reader has stopped
    assert count <= 5  # and never ran far ahead


def test_read_ahead_inside_a_transaction_reads_in_the_callers_thread() -> None:
    with transaction.atomic():
        UserFactory()  # not committed: only this connection sees it
        ahead = ReadAhead(numbered_users(1), 2)
        with ahead as batches:
            pages = list(batches)

    assert ahead.threaded is False
    assert [len(page) for page in pages] == [1]
