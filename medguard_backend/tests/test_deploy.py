"""deploy/ describes what `python3 dev.py` runs: one beat, workers on the three queues, the
web under gunicorn; the systemd units pass `systemd-analyze verify`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_exactly_one_beat_with_the_database_scheduler() -> None:
    beat = compose()["services"]["beat"]

    assert beat["deploy"]["replicas"] == 1
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat["command"]


def test_compose_workers_consume_every_queue_and_serve_their_metrics() -> None:
    worker = compose()["services"]["worker"]

    assert "--queues" not in worker["command"]
    assert "-Q" not in worker["command"]
    assert worker["environment"]["METRICS_WORKER_PORT"] == "9808"
    # Longer than the task hard time limit (300 s), so a warm shutdown finishes its batch.
    assert int(worker["stop_grace_period"].rstrip("s")) > 300


def test_compose_migrates_before_any_app_process_starts() -> None:
    services = compose()["services"]

    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert "setup_notification_tasks" in services["migrate"]["command"][-1]


def test_the_systemd_worker_stops_warm_within_the_task_time_limit() -> None:
    unit = (DEPLOY / "systemd" / "medguard-worker@.service").read_text()

    assert re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M)[1] == "330"  # type: ignore[index]
    assert "--hostname=worker%i@%%h" in unit


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    venv = Path(sys.executable).parent.parent
    for unit in (DEPLOY / "systemd").glob("*.service"):
        text = unit.read_text().replace("/srv/medguard/venv", str(venv))
        text = text.replace("/srv/medguard/app", str(DEPLOY.parent))
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text)
    for unit in sorted(tmp_path.glob("*.service")):
        verified = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(unit)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert (verified.returncode, verified.stderr) == (0, ""), unit.name
