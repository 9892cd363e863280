"""Push tokens and Web Push endpoints are credentials: no log record carries one, whichever
way it reached the server (path, query string, a message), nor gunicorn's access line."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from medguard_backend.logging import RedactPushCredentials, redact_push_credentials
from medguard_backend.testing.processes import subprocess_environment
from medguard_backend.testing.smtp import free_port

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXPO_SECRET = "Zq8xY2wVb7NtRk4LmP0s"
TOKEN = f"ExponentPushToken[{EXPO_SECRET}]"
ENDPOINT_SECRET = "cW9pB3kR_fmL1vX:APA91bHZ"
ENDPOINT = f"https://fcm.googleapis.com/fcm/send/{ENDPOINT_SECRET}"


class Records(logging.Handler):
    """Every record that reaches the root logger, as the handlers would see it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def root_records():
    handler = Records()
    # The same filters the console and file handlers have (settings.LOGGING).
    handler.addFilter(RedactPushCredentials())
    logging.getLogger().addHandler(handler)
    yield handler.lines
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def request_records():
    """Records of django.request as its own logger passes them on: the redaction is on the
    logger itself, so no handler anywhere sees the token."""
    seen: list[str] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    spy = Spy()
    logger = logging.getLogger("django.request")
    logger.addHandler(spy)
    yield seen
    logger.removeHandler(spy)


def test_a_push_token_in_a_not_found_path_never_reaches_a_log_record(
    api, request_records, root_records
):
    response = api.delete(f"/api/push-tokens/{quote(TOKEN)}/")

    assert response.status_code == 404
    assert request_records == ["Not Found: /api/push-tokens/ExponentPushToken[redacted]/"]
    assert EXPO_SECRET not in "\n".join(request_records + root_records)


def test_a_web_push_endpoint_in_the_query_string_never_reaches_a_log_record(
    api, request_records, root_records
):
    response = api.delete(f"/api/web-push-subscriptions/?endpoint={quote(ENDPOINT, safe='')}")

    assert response.status_code == 404
    assert request_records == ["Not Found: /api/web-push-subscriptions/"]
    assert ENDPOINT_SECRET not in "\n".join(request_records + root_records)


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            f"Not Found: /api/push-tokens/{TOKEN}/",
            "Not Found: /api/push-tokens/ExponentPushToken[redacted]/",
        ),
        (
            f"DELETE /api/push-tokens/{quote(TOKEN)}/ HTTP/1.1",
            "DELETE /api/push-tokens/ExponentPushToken[redacted]/ HTTP/1.1",
        ),
        (
            f"DELETE /api/web-push-subscriptions/?endpoint={quote(ENDPOINT, safe='')}&x=1",
            "DELETE /api/web-push-subscriptions/?endpoint=[redacted]&x=1",
        ),
        (f"push to {ENDPOINT} failed: 410", "push to [redacted push endpoint] failed: 410"),
        ("ExpoPushToken[abc%00def] gone", "ExpoPushToken[redacted] gone"),
    ],
    ids=["path", "encoded path", "query", "message", "older spelling with escapes"],
)
def test_tokens_and_endpoints_are_replaced_by_what_they_were(line, redacted):
    assert redact_push_credentials(line) == redacted


def test_a_record_from_any_logger_is_redacted_by_the_handlers_filter(root_records):
    logging.getLogger("some.library").warning("could not reach %s", ENDPOINT)

    assert root_records == ["could not reach [redacted push endpoint]"]


def test_gunicorns_access_log_carries_no_push_token(tmp_path):
    port = free_port()
    access_log = tmp_path / "access.log"
    # gunicorn.conf.py in the project folder selects the redacting logger, as in production.
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "medguard_backend.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(access_log),
        ],
        cwd=ROOT,
        env=subprocess_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/push-tokens/{quote(TOKEN)}/?endpoint={quote(ENDPOINT)}"
        _wait_for_answer(url)
        deadline = time.monotonic() + 30
        while "push-tokens" not in _read(access_log) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(timeout=30)

    line = _read(access_log)
    assert "/api/push-tokens/ExponentPushToken[redacted]/" in line
    assert "endpoint=[redacted]" in line
    assert EXPO_SECRET not in line
    assert ENDPOINT_SECRET not in line


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _wait_for_answer(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 - loopback test server
            return
        except urllib.error.HTTPError:
            return  # an answer (401: no token), which is all the access log needs
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
