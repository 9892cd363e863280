"""Processes the tests start: Celery workers and management commands, on the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from medguard_backend.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def database_url_of_test_database() -> str:
    """The URL of the database the tests run on, for processes the tests start."""
    config = connection.settings_dict
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{config['NAME']}"
    credentials = quote(config["USER"] or "")
    if config["PASSWORD"]:
        credentials += ":" + quote(config["PASSWORD"])
    host = config["HOST"] or "localhost"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{config['NAME']}"


def subprocess_environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "medguard_backend.settings.test",
        "DATABASE_URL": database_url_of_test_database(),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@dataclass
class WorkerProcess:
    """A `celery worker` started as an operator would start it, on the test database."""

    hostname: str
    process: subprocess.Popen[bytes]
    log_path: Path
    stopped: bool = field(default=False)

    def wait_until_ready(self, timeout: float = 60, own_broker: bool = False) -> None:
        """Ping the worker through the configured broker; a worker on a broker of its own
        (``own_broker``) is ready when its log says so: Celery publishes a ping through the
        app's broker whatever connection it is given."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if own_broker:
                if f"{self.hostname} ready." in self.log():
                    return
                time.sleep(0.2)
            # Up to 2 s for the answer (a loaded machine may take longer than 0.5 s, and a
            # worker that answers slowly is still ready); the first answer ends the wait.
            elif celery_app.control.ping(destination=[self.hostname], timeout=2, limit=1):
                return
        raise TimeoutError(f"worker {self.hostname} not ready after {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        """Warm shutdown: finish the running task, then exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stopped = True

    def kill(self) -> None:
        """SIGKILL the whole process group, as the OOM killer or a lost machine would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.stopped = True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `manage.py` in its own process on the test database (with ``env`` on top)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
