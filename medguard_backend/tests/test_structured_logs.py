"""LOG_FORMAT=json: one JSON object per line, carrying the request id from the API request
into the log lines of the tasks it published (a real worker); redaction still applies."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from rest_framework.test import APIClient

from medguard_backend.logging import RedactContactDetails
from medguard_backend.structured_logs import JsonFormatter
from medguard_backend.testing.factories import UserFactory, api_token


def test_a_json_line_is_redacted_like_a_text_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactContactDetails())
    logger = logging.getLogger("medguard.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("could not reach %s", "thandi@example.co.za")
    finally:
        logger.removeHandler(handler)

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "could not reach [redacted]"
    assert record["level"] == "WARNING"
    assert record["name"] == "medguard.test.json"
    assert record["time"].endswith("+00:00")


def test_the_request_id_is_echoed_or_made_up(client) -> None:
    given = client.get("/health/live", HTTP_X_REQUEST_ID="req-given-123")
    unsafe = client.get("/health/live", HTTP_X_REQUEST_ID="bad id\nwith newline")
    made_up = client.get("/health/live")

    assert given["X-Request-ID"] == "req-given-123"
    assert unsafe["X-Request-ID"] != "bad id\nwith newline"
    assert len(unsafe["X-Request-ID"]) == 32
    assert len(made_up["X-Request-ID"]) == 32
    assert made_up["X-Request-ID"] != unsafe["X-Request-ID"]


@pytest.mark.worker
def test_json_logs_carry_the_request_id_into_the_tasks_it_published(start_worker) -> None:
    UserFactory(user_type="patient")
    staff = UserFactory(user_type="staff", is_staff=True)
    worker = start_worker(LOG_FORMAT="json")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(staff)}")

    response = api.post(
        "/api/staff/system-notifications/",
        {"title": "Maintenance", "content": "Tonight", "target_user_types": ["patient"]},
        format="json",
        HTTP_X_REQUEST_ID="req-morning-42",
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "req-morning-42"

    def task_lines() -> list[dict[str, object]]:
        lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("request_id") == "req-morning-42"]

    deadline = time.monotonic() + 60
    while not any("succeeded" in str(line["message"]) for line in task_lines()):
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.3)

    [succeeded] = [line for line in task_lines() if "succeeded" in str(line["message"])]
    assert succeeded["task"] == "notifications.tasks.send_deliveries"
    assert str(succeeded["task_id"]) in str(succeeded["message"])
    # Every line the worker logged through logging is JSON (its banner is printed, not logged).
    logged = [line for line in worker.log().splitlines() if line.startswith("{")]
    assert logged
    assert all(isinstance(json.loads(line), dict) for line in logged)
