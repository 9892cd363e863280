"""/health/ with a real beat and a real worker: it goes 503 when beat stops and recovers
when beat starts again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from medguard_backend.testing.processes import ROOT, subprocess_environment
from notifications.periodic_tasks import create_all_periodic_tasks

pytestmark = pytest.mark.worker


@pytest.fixture
def start_beat(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """`celery beat` with the database scheduler, as an operator starts it."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"beat-{len(started)}.log").open("wb")
        command = [
            sys.executable,
            *("-m", "celery", "-A", "medguard_backend", "beat", "--loglevel=info"),
            *("--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"),
            f"--pidfile={tmp_path / f'beat-{len(started)}.pid'}",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, env=subprocess_environment(), stdout=log, stderr=subprocess.STDOUT
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def health_until(client: Client, wanted: int, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health/")
        if response.status_code == wanted:
            return response.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"/health/ still {response.status_code}: {response.json()}")
        time.sleep(0.5)


def test_health_goes_503_when_beat_stops_and_recovers_when_it_restarts(
    start_worker, start_beat, settings
) -> None:
    # An operator may tune the heartbeat's schedule in the admin; here it ticks every
    # second and beat counts as silent after five.
    settings.BEAT_HEARTBEAT_MAX_AGE_SECONDS = 5
    create_all_periodic_tasks()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.filter(name="Beat Heartbeat").update(interval=every_second)
    client = Client()
    start_worker()
    assert client.get("/health/").json()["failing"] == ["beat"]  # never ticked yet

    beat = start_beat()
    healthy = health_until(client, 200)
    assert healthy["components"]["beat"]["age_seconds"] <= 5  # type: ignore[index]

    beat.send_signal(signal.SIGTERM)
    beat.wait(timeout=30)
    stopped_at = time.monotonic()
    silent = health_until(client, 503)
    assert silent["failing"] == ["beat"]
    assert time.monotonic() - stopped_at <= 20
    assert silent["components"]["beat"]["age_seconds"] > 5  # type: ignore[index]

    start_beat()
    recovered = health_until(client, 200)
    assert recovered["failing"] == []
