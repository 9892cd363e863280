"""Servers the fault tests start and stop themselves: a private Redis and the web app under
gunicorn, each a real process on a free loopback port (never the machine's shared Redis)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from medguard_backend.testing.processes import ROOT, subprocess_environment
from medguard_backend.testing.smtp import free_port

HOST = "127.0.0.1"


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early with {process.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not listening on {port} after {timeout}s")


class RedisServer:
    """A `redis-server` of the test's own, on a port it keeps across stop and start."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def environ(self) -> dict[str, str]:
        """Broker, result store and cache of a process started by the test, all here."""
        return {
            "CELERY_BROKER_URL": self.url(0),
            "CELERY_RESULT_BACKEND": self.url(1),
            "REDIS_URL": self.url(2),
        }

    def start(self) -> None:
        command = ["redis-server", "--bind", HOST, "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_for_port(self.port, 10, self.process, "redis-server")

    def stop(self) -> None:
        """Stop at once (SIGKILL): an outage, not a graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


class WebServer:
    """The WSGI app under gunicorn, on the test database, with ``env`` on top."""

    def __init__(self, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "medguard_backend.wsgi"]
        command += ["--bind", f"{HOST}:{self.port}", "--workers", "1", "--timeout", "60"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=subprocess_environment(**self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_port(self.port, 60, self.process, "gunicorn")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
