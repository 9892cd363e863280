"""The OpenAPI document: valid, served with its docs page, and honoured by every operation
(schemathesis, against the WSGI app in-process, with a real token)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory, api_token
from medguard_backend.wsgi import application
from medications.tests.factories import (
    CaregiverLinkFactory,
    DoseFactory,
    ScheduleFactory,
    SupplyFactory,
)
from notifications.api.throttles import SimpleRateThrottle
from notifications.services import NotificationService

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_without_warnings(tmp_path):
    # `spectacular --validate --fail-on-warn` exits non-zero on any warning or error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))

    assert "/api/notifications/{notification_id}/acknowledge/:" in (tmp_path / "s.yaml").read_text()


def test_the_schema_and_its_docs_page_need_no_login(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert docs.status_code == 200
    assert docs["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in docs.content


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(settings):
    # WhiteNoise serves from the installed apps' static folders, as `runserver` does.
    settings.WHITENOISE_USE_FINDERS = True
    client = Client()  # a fresh handler reads the setting

    page = client.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert "cdn" not in page.lower()
    assert "@latest" not in page
    assert {"swagger-ui.css", "swagger-ui-bundle.js"} <= {
        asset.rsplit("/", 1)[-1] for asset in assets
    }
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def api_tokens(patient, staff_member) -> dict[str, str]:
    """A patient with notifications in every state, preferences, a phone and a medication
    with doses; a member of staff who can broadcast; a caregiver linked to the patient."""
    for number in range(6):
        NotificationService.create_notification(
            f"Notice {number}",
            "Details",
            "medication" if number % 2 else "system",
            target_users=[patient, staff_member],
            require_acknowledgment=number % 3 == 0,
        )
    NotificationService.send_medication_reminder(patient, "Aspirin", "100mg", channels=["in_app"])
    PreferencesFactory(user=patient, quiet_hours_enabled=True)
    PushDeviceFactory(user=patient)
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))
    DoseFactory.create_batch(3, schedule=schedule)
    caregiver = CaregiverLinkFactory(patient=patient, can_see_medication_details=True).caregiver
    return {
        "patient": api_token(patient),
        "staff": api_token(staff_member),
        "caregiver": api_token(caregiver),
    }


@pytest.fixture
def api_schema(api_tokens) -> Iterator[schemathesis.BaseSchema]:
    # The app is called like a server (outside Django's test client), so the handler's
    # end-of-request hook would close the test's transaction; Django's own client
    # disconnects it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


# In-process and quick; every other check runs in `st run --checks all` below.
CHECKS = [not_a_server_error, response_schema_conformance]
# Whose token drives an operation, by path prefix; the patient's for the rest.
ROLES = {"/api/staff/": "staff", "/api/patients/": "caregiver"}


def exercise(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    """Up to 25 generated requests to ``operation``; each response must be no 5xx and match
    the documented schema for its status code."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def answers_as_documented(case) -> None:
        # Throttle counters live in the cache; this test is about shapes, not rates.
        cache.clear()
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()


# (schemathesis.pytest.from_fixture would make one test per operation, but it relies on a
# pytest internal that pytest 9 removed; the operations are driven with Hypothesis here.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_schema_says(api_schema, api_tokens, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]

    for operation in operations:
        takes_input = any(
            len(part) for part in (operation.path_parameters, operation.query, operation.body)
        )
        if mode is GenerationMode.NEGATIVE and not takes_input:
            continue  # nothing to get wrong
        role = next(
            (role for prefix, role in ROLES.items() if operation.path.startswith(prefix)),
            "patient",
        )
        try:
            exercise(operation, mode, {"Authorization": f"Token {api_tokens[role]}"})
        except Exception as failure:
            raise AssertionError(f"{operation.label} ({mode.value}): {failure}") from failure

    assert len(operations) == 41


ST = Path(sys.executable).with_name("st")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        ("patient", r"^/api/(?!staff/|patients/)"),
        ("staff", r"^/api/staff/"),
        ("caregiver", r"^/api/patients/"),
    ],
)
def test_st_run_with_every_check_finds_no_failure(
    live_server, api_tokens, monkeypatch, tmp_path, role, paths
):
    # `st run --checks all` as an operator would run it, against a real HTTP server on
    # loopback (every phase: examples, coverage, fuzzing, stateful). The budgets are raised:
    # this is about what the API answers, not how often.
    for scope in list(SimpleRateThrottle.THROTTLE_RATES):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "1000000/min")

    result = subprocess.run(
        [
            str(ST),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{live_server.url}/api/schema/",
            "--checks",
            "all",
            "--header",
            f"Authorization: Token {api_tokens[role]}",
            "--include-path-regex",
            paths,
            "--max-examples",
            "5",
            "--generation-deterministic",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # its cache of the server's capabilities goes there
        timeout=900,
    )

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout or " passed" in result.stdout
