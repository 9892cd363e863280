"""Fixtures shared by every app's tests: real Celery worker processes and real servers."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from medguard_backend.celery import app as celery_app
from medguard_backend.testing.processes import WorkerProcess, subprocess_environment

pytest_plugins = [
    "medguard_backend.testing.smtp",
    "medguard_backend.testing.chromium",
    "medguard_backend.testing.leak_watch",
    "medguard_backend.testing.providers",
]

ROOT = Path(__file__).resolve().parent
ALL_QUEUES = ("celery", "notifications", "medications")


@pytest.fixture(autouse=True, scope="session")
def _fresh_metrics() -> None:
    """The run's metrics start from zero: files left by an earlier run's processes would
    be added to this run's (prometheus-client's multiprocess mode keeps dead processes'
    counts)."""
    from django.conf import settings

    folder = Path(settings.PROMETHEUS_MULTIPROC_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request handled by the test client
    leaves its language active in the thread, and the next test would inherit it."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _forget_rendered_texts() -> None:
    """Rendered inbox texts are kept per process, keyed by notification id: a test must not
    read another test's text for a reused id."""
    from notifications.inbox import texts as inbox_text

    inbox_text.forget()


@pytest.fixture
def start_worker(transactional_db: None, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real `celery -A medguard_backend worker` processes against the configured
    broker (the filesystem transport, or Redis when CELERY_BROKER_URL is set) and the test
    database. Tests that use it must commit their data: it runs on ``transactional_db``."""
    workers: list[WorkerProcess] = []
    celery_app.control.purge()

    def start(
        queues: tuple[str, ...] = ALL_QUEUES, concurrency: int = 1, **env: str
    ) -> WorkerProcess:
        hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
        log_path = tmp_path / f"{hostname}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "medguard_backend",
            "worker",
            "--loglevel=info",
            f"--concurrency={concurrency}",
            f"--hostname={hostname}",
            "--queues",
            ",".join(queues),
            "--without-mingle",
            "--without-gossip",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=subprocess_environment(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = WorkerProcess(hostname, process, log_path)
        workers.append(worker)
        # A worker given a broker of its own (a test's private Redis) is pinged through it.
        worker.wait_until_ready(own_broker="CELERY_BROKER_URL" in env)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    celery_app.control.purge()
