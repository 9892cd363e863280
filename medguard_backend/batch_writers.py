"""Batches written from a few threads, or read ahead in one, so Python and the database
overlap.

A slot's reminders are written batch by batch, each batch its own transaction: about half
of a batch's time is Python preparing rows, half is PostgreSQL inserting them, one after
the other. With two writer threads, each on its own database connection, one thread's
Python runs while the other waits on PostgreSQL (which works in its own process, on the
other core), and the slot finishes in about the longer of the two instead of their sum.

Threads are used only where that is safe and useful: on PostgreSQL, outside a transaction
(a writer's connection sees only committed rows, and a caller's transaction could not
cover the writers' work) and with ``BATCH_WRITER_THREADS`` above 1. Otherwise each batch is
written at once in the caller's thread, in order: SQLite (one writer at a time anyway),
tests inside a transaction, a caller in an atomic block.

The producer never runs more than a batch ahead of each writer (memory stays flat), and
the first error stops the rest: later batches are dropped and the error is raised to the
caller, whose batches already committed stay committed (each batch is whole or nothing).

``ReadAhead`` is the other way round, for work that must be written in one transaction (a
broadcast's fan-out): the caller writes every batch on its own connection, and a reader
thread prepares the next batch (reads users and their preferences, decides, encodes)
meanwhile, under the same conditions.

What they buy, measured A/B with ``BATCH_WRITER_THREADS`` 2 against 1 in alternating runs
(2026-11-30, on the shared 2-core machine at a load average of 11 to 17, so each figure is
the mean of two or three runs and noisy):

- ``bench/reminders.py --schedules 20000`` (``BatchWriters``): 23.3 s against 32.1 s for the
  slot (-27%); against the COPY floor of the same run, 4.2x against 5.3x (-20%).
- ``bench/fanout.py --size 10000`` (``ReadAhead``): 3.85 s against 5.77 s for the send
  (-33%); against the COPY floor, 2.77x against 3.05x (-9%).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connection, connections

Batch = TypeVar("Batch")
_DONE = object()


def _threads_allowed(count: int) -> bool:
    # A thread's own connection sees only committed rows: not for a caller's transaction.
    return count > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block


class BatchWriters(Generic[Batch]):
    """``with BatchWriters(write) as writers: writers.submit(batch)`` for each batch."""

    def __init__(self, write: Callable[[Batch], object], threads: int | None = None) -> None:
        self._write = write
        count = settings.BATCH_WRITER_THREADS if threads is None else threads
        self.threaded = _threads_allowed(count)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=count)
        self._errors: list[BaseException] = []
        self._threads = (
            [threading.Thread(target=self._run, name=f"batch-writer-{i}") for i in range(count)]
            if self.threaded
            else []
        )

    def __enter__(self) -> BatchWriters[Batch]:
        for thread in self._threads:
            thread.start()
        return self

    def submit(self, batch: Batch) -> None:
        if self._errors:
            raise self._errors[0]
        if self.threaded:
            self._queue.put(batch)
        else:
            self._write(batch)

    def _run(self) -> None:
        try:
            while (batch := self._queue.get()) is not _DONE:
                if self._errors:
                    continue  # drain: the producer must not block on a full queue
                try:
                    self._write(batch)  # type: ignore[arg-type]
                except BaseException as error:  # re-raised in the caller's thread
                    self._errors.append(error)
        finally:
            # This thread's own connection: Django closes only the request thread's.
            connections.close_all()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for _ in self._threads:
            self._queue.put(_DONE)
        for thread in self._threads:
            thread.join()
        if self._errors and exc is None:
            raise self._errors[0]


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReadAhead(Generic[Batch]):
    """``with ReadAhead(batches) as ahead: for batch in ahead: ...``: each batch of the
    iterator ``batches`` is produced in a reader thread while the caller handles the one
    before (or simply in turn, where threads are not allowed). Decide this before opening
    the transaction the batches are written in: inside one, there is no thread."""

    def __init__(self, batches: Iterator[Batch], threads: int | None = None) -> None:
        self._batches = batches
        count = settings.BATCH_WRITER_THREADS if threads is None else threads
        self.threaded = _threads_allowed(count)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="batch-reader")

    def __enter__(self) -> Iterator[Batch]:
        if not self.threaded:
            return self._batches
        self._thread.start()
        return self._consume()

    def _consume(self) -> Iterator[Batch]:
        while (item := self._queue.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for batch in self._batches:
                if not self._put(batch):
                    return  # the caller stopped
            self._put(_DONE)
        except BaseException as error:  # re-raised in the caller's thread
            self._put(_Failed(error))
        finally:
            connections.close_all()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.threaded:
            self._stop.set()
            self._thread.join()
