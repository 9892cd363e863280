"""Watching the whole test suite for personal data where it must never be: log records and
Celery task arguments (DESIGN.md: pass ids; no medicine names, message bodies, phone
numbers, email addresses or tokens).

As a pytest plugin it keeps, for the whole session, every log record the test process emits,
the arguments of every Celery task it publishes, and the medicine names, addresses and
tokens the tests create. The test marked ``leak_scan`` (``privacy/tests/test_zz_leaks.py``)
runs last and scans all of it, plus the log files of the worker processes the tests started.

    pytest_plugins = ["medguard_backend.testing.leak_watch"]
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PHONE = re.compile(r"(?<![\w+])(?:\+27|0)[6-8]\d{8}\b|\+[1-9]\d{9,14}\b")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
TOKEN = re.compile(r"\b[0-9a-f]{64}\b|\b[0-9a-f]{40}\b")
# Stored digests and hashes may appear; they are not credentials.
ALLOWED_EMAILS = {"noreply@medguard-sa.com", "webmaster@localhost", "root@localhost"}


@dataclass
class LeakWatch:
    log_lines: list[str] = field(default_factory=list)
    task_arguments: list[str] = field(default_factory=list)
    medicine_names: set[str] = field(default_factory=set)
    worker_logs: list[Path] = field(default_factory=list)

    def texts(self) -> list[tuple[str, str]]:
        """(where, text) for everything watched."""
        found = [("log", line) for line in self.log_lines]
        found += [("task arguments", args) for args in self.task_arguments]
        for path in self.worker_logs:
            if path.exists():
                found += [
                    (f"worker log {path.name}", line)
                    for line in path.read_text(errors="replace").splitlines()
                ]
        return found

    def leaks(self) -> list[str]:
        names = [name for name in self.medicine_names if len(name) >= 4]
        medicine = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b", re.IGNORECASE)
            if names
            else None
        )
        found = []
        for where, text in self.texts():
            for kind, pattern in (("phone number", PHONE), ("token", TOKEN)):
                if pattern.search(text):
                    found.append(f"{kind} in {where}: {text[:200]}")
            emails = set(EMAIL.findall(text)) - ALLOWED_EMAILS
            if emails:
                found.append(f"email address in {where}: {text[:200]}")
            if medicine is not None and medicine.search(text):
                found.append(f"medicine name in {where}: {text[:200]}")
        return found


WATCH = LeakWatch()


class _Recorder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is the logging call's bug, not a leak
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" | {record.exc_info[1]!r}"
        WATCH.log_lines.append(f"{record.name}: {text}")


def _task_published(sender: str | None = None, body: Any = None, **_: Any) -> None:
    WATCH.task_arguments.append(f"{sender}: {body!r}")


def _medicine_saved(sender: Any, instance: Any, **_: Any) -> None:
    WATCH.medicine_names.add(str(instance.name))


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(_Recorder(level=logging.DEBUG))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leak_scan: runs after every other test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("leak_scan") is not None)


@pytest.fixture(autouse=True, scope="session")
def _watch_signals(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from celery.signals import before_task_publish
    from django.db.models.signals import post_save

    from medications.models import Medicine

    before_task_publish.connect(_task_published, weak=False)
    post_save.connect(_medicine_saved, sender=Medicine, weak=False)
    yield
    before_task_publish.disconnect(_task_published)
    post_save.disconnect(_medicine_saved, sender=Medicine)


@pytest.fixture
def leak_watch(tmp_path_factory: pytest.TempPathFactory) -> LeakWatch:
    """The session's watch, with the worker log files written so far."""
    WATCH.worker_logs = sorted(tmp_path_factory.getbasetemp().rglob("*@localhost.log"))
    return WATCH
