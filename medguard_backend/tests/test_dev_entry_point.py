"""What a new user runs first: `python3 dev.py` starts every process with the site's real
address and ports, and the README's `python manage.py ...` works from any terminal after it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dev
from medguard_backend.devtools.instance import running_dev_instance
from medguard_backend.testing.factories import UserFactory
from notifications.services import NotificationService

ROOT = Path(__file__).resolve().parents[2]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"
NOT_SET = {"SITE_BASE_URL", "WAGTAILADMIN_BASE_URL", "MEDGUARD_PORT", "DEV_SMTP_PORT"}


def environment(**values: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in NOT_SET}
    return clean | values


@pytest.mark.worker
def test_emails_sent_by_processes_dev_py_starts_link_to_the_port_the_site_runs_on(
    start_worker, smtp_server
) -> None:
    services = dev.service_environment(environment(MEDGUARD_PORT="8010"))
    start_worker(SITE_BASE_URL=services["SITE_BASE_URL"], **smtp_server.environ())
    user = UserFactory(email="thandi@example.org")
    notification = NotificationService.create_notification(
        title="Refill ready", content="Collect it on Thursday."
    )

    NotificationService.send_notification_to_user(user, notification, channels=["email"])

    [message] = smtp_server.wait_for(1, timeout=120)  # generous: a loaded CI machine
    text = message.get_body(("plain",)).get_content()
    links = set(re.findall(r"https?://[^\s\"<>]+", text))
    assert f"http://127.0.0.1:8010/notifications/{notification.pk}/" in links
    assert {link for link in links if ":8000" in link or "localhost" in link} == set()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SITE_BASE_URL", "https://medguard.example.org"),
        ("WAGTAILADMIN_BASE_URL", "https://seed.example.org"),
    ],
)
def test_a_base_url_the_operator_set_wins_over_the_port(variable: str, value: str) -> None:
    services = dev.service_environment(environment(MEDGUARD_PORT="8010", **{variable: value}))

    assert services[variable] == value
    assert services.get("SITE_BASE_URL", value) == value


def test_dev_py_passes_its_ports_to_every_process_it_starts() -> None:
    services = dev.service_environment(environment(MEDGUARD_PORT="8105", DEV_SMTP_PORT="1105"))

    assert services["SITE_BASE_URL"] == "http://127.0.0.1:8105"
    assert services["DEV_SMTP_PORT"] == "1105"
    assert dev.service_environment(environment())["SITE_BASE_URL"] == "http://127.0.0.1:8000"


@pytest.mark.parametrize("value", ["eighty", "0", "70000"])
def test_a_port_that_is_not_a_port_stops_dev_py_with_one_line_naming_it(value: str) -> None:
    with pytest.raises(SystemExit, match=f"MEDGUARD_PORT must be a port number.*{value}"):
        dev.service_environment(environment(MEDGUARD_PORT=value))


def test_a_command_started_by_hand_finds_the_running_dev_py_until_it_stops(
    tmp_path: Path,
) -> None:
    path = tmp_path / "dev-instance.json"
    services = dev.service_environment(environment(MEDGUARD_PORT="8105", DEV_SMTP_PORT="1105"))

    dev.record_instance(path, services, catch_mail=True)
    running = running_dev_instance(path)
    dev.forget_instance(path)

    assert running is not None
    assert (running.site_base_url, running.smtp_port) == ("http://127.0.0.1:8105", 1105)
    assert running_dev_instance(path) is None
    assert not path.exists()


def test_a_dev_py_that_was_killed_is_not_taken_for_a_running_one(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / "dev-instance.json"
    path.write_text(json.dumps({"pid": int(finished.stdout), "smtp_port": 1105}))

    assert running_dev_instance(path) is None


def run_with_system_python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in environment(**env).items() if k != "VIRTUAL_ENV"}
    clean["DJANGO_SETTINGS_MODULE"] = "medguard_backend.settings.dev"
    return subprocess.run(
        [str(BASE_PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def system_python_without_django() -> Path:
    probe = subprocess.run([str(BASE_PYTHON), "-c", "import django"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{BASE_PYTHON} has Django of its own: manage.py rightly stays in it")
    return BASE_PYTHON


def test_manage_py_started_by_a_python_without_django_runs_in_the_projects_environment(
    system_python_without_django: Path,
) -> None:
    result = run_with_system_python(
        "shell", "-c", "import sys, django; print(sys.prefix); print(django.get_version())"
    )

    assert result.returncode == 0, result.stderr
    prefix, version = result.stdout.strip().splitlines()[-2:]
    assert Path(prefix).resolve() == (ROOT / ".venv").resolve()
    assert version.startswith("5.2")


def test_the_shell_sends_mail_to_the_catcher_of_the_running_dev_py(
    system_python_without_django: Path,
) -> None:
    instance = ROOT / "var" / "dev-instance.json"
    if instance.exists():
        pytest.skip("a python3 dev.py runs in this checkout; its description is not ours")
    services = dev.service_environment(environment(MEDGUARD_PORT="8105", DEV_SMTP_PORT="1105"))
    dev.record_instance(instance, services, catch_mail=True)
    try:
        result = run_with_system_python(
            "shell",
            "-c",
            "from django.conf import settings; "
            "print(settings.EMAIL_HOST, settings.EMAIL_PORT, settings.SITE_BASE_URL)",
        )
    finally:
        dev.forget_instance(instance)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "127.0.0.1 1105 http://127.0.0.1:8105"
