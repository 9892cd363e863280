"""A step of every Celery worker's consumer: write a heartbeat for each queue it consumes.

A thread of the worker's main process, started when the consumer connects to the broker
and stopped when it loses it, so "consuming" means connected and subscribed, whatever
the pool is busy with. A queue the worker stops consuming (`celery control
cancel_consumer`, draining) stops getting heartbeats from it at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

logger = logging.getLogger(__name__)


class QueueHeartbeat(bootsteps.StartStopStep):
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, args=(parent,), name="queue-heartbeat", daemon=True
        )
        self._thread.start()

    def stop(self, parent: Any) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    shutdown = stop

    def _run(self, consumer: Any) -> None:
        try:
            while not self._stopping.is_set():
                self._beat(consumer)
                self._stopping.wait(settings.WORKER_HEARTBEAT_SECONDS)
        finally:
            connection.close()

    def _beat(self, consumer: Any) -> None:
        from . import heartbeats  # models: not importable when the Celery app is built

        task_consumer = consumer.task_consumer
        queues = [queue.name for queue in task_consumer.queues] if task_consumer else []
        try:
            close_old_connections()
            heartbeats.record_queues(queues, timezone.now(), consumer.hostname)
        except Exception as error:  # a database hiccup must not stop the worker's heartbeat
            logger.warning("queue heartbeat not written: %s", type(error).__name__)
