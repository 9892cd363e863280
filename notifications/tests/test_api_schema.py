"""The OpenAPI document: valid, served with its docs page, and honoured by every operation
(schemathesis, against the WSGI app in-process, with a real token)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from medguard_backend.testing.factories import PreferencesFactory, PushDeviceFactory
from medguard_backend.wsgi import application
from medications.tests.factories import (
    CaregiverLinkFactory,
    DoseFactory,
    ScheduleFactory,
    SupplyFactory,
)
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
        "patient": Token.objects.create(user=patient).key,
        "staff": Token.objects.create(user=staff_member).key,
        "caregiver": Token.objects.create(user=caregiver).key,
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

    assert len(operations) == 27
