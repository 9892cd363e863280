"""Workers ride out Redis restarts: a private redis-server is restarted many times under
load, and afterwards every worker still consumes, and every email goes out exactly once.

Without the transport patch (medguard_backend/broker.py) a worker died with
``Unrecoverable error: AttributeError("'NoneType' object has no attribute 'hostname'")``,
usually within the first few restarts of this test.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from medguard_backend.celery import app as celery_app
from medguard_backend.testing.factories import UserFactory
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationRecipient,
)
from notifications.services import NotificationService
from notifications.tasks import ping, send_deliveries

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
RESTARTS = int(os.environ.get("BROKER_RESTARTS", "20"))


class PrivateRedis:
    """A redis-server of this test's own, on a free port: never the shared one."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)


def point_this_process_at(url: str) -> None:
    """Publish from this process through ``url``: the app's pooled connections (and the
    producers on them) were opened for the broker before, so they are dropped (not closed:
    a producer still checked out elsewhere would find its pool closed)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = url


@pytest.fixture
def private_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    saved = celery_app.conf.broker_url
    # The settings register the patched transport for the redis:// scheme.
    point_this_process_at(redis.url())
    try:
        yield redis
    finally:
        point_this_process_at(saved)
        redis.stop(signal.SIGKILL)


@contextmanager
def steady_load() -> Iterator[None]:
    """Ping tasks published every few milliseconds, so that a restart finds tasks in
    flight (received, not yet acknowledged): the state the fatal error needed."""
    stop = threading.Event()

    def publish() -> None:
        while not stop.is_set():
            try:
                ping.apply_async(queue="notifications", retry=False)
            except Exception:  # the broker is down: the point of the test
                stop.wait(0.2)
            stop.wait(0.005)

    thread = threading.Thread(target=publish, name="steady-load")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(autouse=True)
def _forget_private_queues() -> Iterator[None]:
    """Publishing to ``only-first`` declares it in the app's queue table for the rest of the
    process; later tests (and a worker started without ``-Q``) must see only the real three."""
    declared = set(celery_app.amqp.queues)
    yield
    for name in set(celery_app.amqp.queues) - declared:
        del celery_app.amqp.queues[name]


def email_deliveries_of(users: list) -> list[int]:
    return list(
        Delivery.objects.filter(recipient__user__in=users, channel="email").values_list(
            "id", flat=True
        )
    )


def test_workers_keep_consuming_across_redis_restarts_and_send_each_email_once(
    start_worker, smtp_server, private_redis
) -> None:
    queues = {name: ("notifications", f"only-{name}") for name in ("first", "second")}
    workers = {
        name: start_worker(
            queues=queue_names,
            concurrency=2,
            CELERY_BROKER_URL=private_redis.url(0),
            # Results stored in Redis too, as in production: a task storing its result
            # when Redis goes away is still unacknowledged when the connection drops.
            CELERY_RESULT_BACKEND=private_redis.url(1),
            **smtp_server.environ(),
        )
        for name, queue_names in queues.items()
    }
    before = [UserFactory() for _ in range(5)]
    after = [UserFactory() for _ in range(5)]
    notification = NotificationService.create_notification(
        "Clinic closed", "Closed on Monday.", "system", "medium", target_users=[]
    )

    NotificationService.send_notification_to_users(before, notification, ["email"])
    smtp_server.wait_for(len(before), timeout=60)
    with steady_load():
        for _ in range(RESTARTS):
            private_redis.stop(random.choice([signal.SIGTERM, signal.SIGKILL]))
            time.sleep(random.uniform(0.1, 0.8))
            private_redis.start()
            time.sleep(random.uniform(1.0, 2.5))  # the workers reconnect after about 2 s
    for name, worker in workers.items():
        assert worker.process.poll() is None, f"worker {name} exited:\n{worker.log()[-3000:]}"
    NotificationService.send_notification_to_users(after, notification, ["email"])

    # Each worker takes a task from its own queue: it is consuming, not merely alive. The
    # rows are written directly, so that nothing publishes them but this test.
    own_work = {}
    for name in workers:
        probe = Notification.objects.create(title=f"For {name}", notification_type="system")
        recipient = NotificationRecipient.objects.create(notification=probe, user=UserFactory())
        own_work[name] = Delivery.objects.create(recipient=recipient, channel="in_app")
        send_deliveries.apply_async(([own_work[name].pk],), queue=f"only-{name}")
    wait_until(
        lambda: (
            set(
                Delivery.objects.filter(pk__in=[d.pk for d in own_work.values()]).values_list(
                    "status", flat=True
                )
            )
            == {DeliveryStatus.SENT}
        ),
        timeout=60,
        what="each worker to send the in-app delivery put on its own queue",
    )
    smtp_server.wait_for(len(before) + len(after), timeout=60)
    time.sleep(2)  # anything sent twice would have arrived by now

    for name, worker in workers.items():
        assert worker.process.poll() is None, f"worker {name} exited:\n{worker.log()[-3000:]}"
        assert "Unrecoverable error" not in worker.log()
    assert Counter(message["To"] for message in smtp_server.messages) == {
        user.email: 1 for user in before + after
    }
    sent_attempts = Counter(
        DeliveryAttempt.objects.filter(
            delivery_id__in=email_deliveries_of(before + after), outcome="sent"
        ).values_list("delivery_id", flat=True)
    )
    assert sent_attempts == {pk: 1 for pk in email_deliveries_of(before + after)}
