"""Hostile input, generated over every operation of the OpenAPI document and every URL
pattern of the project (nothing listed by hand): deep nesting, NUL characters, invalid UTF-8,
lone surrogate escapes, huge numbers, overlong strings, wrong JSON types and wrong content
types, in paths, query strings and bodies.

No answer may be a server error, and under /api/ every refusal is a JSON 4xx that names
the problem: the field or parameter at fault, or a ``detail`` saying what is wrong.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from medguard_backend.testing.factories import PushDeviceFactory, api_token
from medguard_backend.testing.hostile import (
    WRITE_METHODS,
    Probe,
    body_probes,
    operations,
    path_probes,
    query_probes,
    url_templates,
)
from medications.tests.factories import (
    CaregiverLinkFactory,
    DoseFactory,
    ScheduleFactory,
    SupplyFactory,
)
from notifications.services import NotificationService
from patients.models import CaregiverInvitation
from privacy.services.sign_ins import sign_in_id

pytestmark = pytest.mark.django_db

# Whose credentials drive a path, by prefix (the patient's for the rest of /api/).
ROLES = {"/api/staff/": "staff", "/api/patients/": "caregiver", "/api/auth/": "anonymous"}


@pytest.fixture
def api_world(patient, staff_member) -> SimpleNamespace:
    """Real objects behind every path parameter (so that a body reaches its serializer),
    and a token for each role."""
    notification = NotificationService.create_notification(
        "Notice", "Details", "system", target_users=[patient], require_acknowledgment=True
    )
    schedule = ScheduleFactory(supply=SupplyFactory(patient=patient))
    dose = DoseFactory(schedule=schedule)
    caregiver = CaregiverLinkFactory(patient=patient, can_see_medication_details=True).caregiver
    device = PushDeviceFactory(user=patient)
    invitation = CaregiverInvitation.objects.create(
        patient=patient,
        email="naledi@example.org",
        token_hash="0" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    return SimpleNamespace(
        path_values={
            "notification_id": str(notification.pk),
            "dose_id": str(dose.pk),
            "supply_id": str(schedule.supply_id),
            "patient_id": str(patient.pk),
            "token": quote(device.token),
            # One of the patient's sign-ins (its id is derived from the token's digest).
            "sign_in_id": sign_in_id(AuthToken.objects.create(user=patient)[0].digest),
            "user_id": str(patient.pk),
            "invitation_id": str(invitation.pk),
        },
        tokens={
            "patient": api_token(patient),
            "staff": api_token(staff_member),
            "caregiver": api_token(caregiver),
        },
    )


@dataclass
class Answer:
    probe: Probe
    status: int
    content_type: str
    body: Any

    def fault(self, api: bool) -> str | None:
        """What is wrong with this answer to a hostile request, or None."""
        if self.status == 503 and isinstance(self.body, dict) and "components" in self.body:
            # /health/ saying a part is down (no beat or worker runs in this test): its
            # verdict, answered as designed, not a server error.
            return None
        if self.status >= 500:
            return f"server error {self.status}"
        if not api or (self.probe.may_succeed and self.status < 400):
            return None
        if not 400 <= self.status < 500:
            return f"answered {self.status} instead of refusing"
        if not self.content_type.startswith("application/json"):
            return f"a {self.status} in {self.content_type or 'no content type'}, not JSON"
        if not isinstance(self.body, dict) or not self.body:
            return f"a {self.status} naming nothing: {self.body!r}"
        named = self.probe.names
        if named and not any(name in self.body for name in named):
            return f"a {self.status} not naming {' or '.join(named)}: {self.body!r}"
        detail = str(self.body.get("detail", ""))
        if self.probe.detail_says and self.probe.detail_says not in detail:
            return f"a {self.status} not saying {self.probe.detail_says!r}: {self.body!r}"
        return None


def send(client: Client, probe: Probe, headers: dict[str, str]) -> Answer:
    # Budgets live in the cache: every probe starts with a fresh one (this is about shapes).
    cache.clear()
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": headers["auth"]} if headers["auth"] else {}
    if probe.body is None:
        response = client.generic(probe.method, probe.url, **extra)
    else:
        response = client.generic(
            probe.method, probe.url, data=probe.body, content_type=probe.content_type, **extra
        )
    content_type = response.get("Content-Type", "")
    body: Any = None
    if content_type.startswith("application/json"):
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = json.loads(raw or b"null")
    return Answer(probe, response.status_code, content_type, body)


def faults(client: Client, probes: Iterator[Probe], tokens: dict[str, str]) -> list[str]:
    found = []
    count = 0
    for probe in probes:
        count += 1
        path = probe.url.split("?", 1)[0]
        api = path.startswith("/api/")
        role = next((role for prefix, role in ROLES.items() if path.startswith(prefix)), "patient")
        auth = f"Token {tokens[role]}" if api and role != "anonymous" else ""
        fault = send(client, probe, {"auth": auth}).fault(api)
        if fault is not None:
            found.append(f"{probe.method} {probe.url[:120]} ({probe.what}): {fault}")
    assert count > 0, "no probe was generated"
    return found


def test_no_hostile_body_gets_a_server_error_and_each_is_refused_by_name(api_world, client: Client):
    probes = (
        probe
        for operation in operations(api_world.path_values)
        if operation.method in WRITE_METHODS
        for probe in body_probes(operation)
    )

    found = faults(client, probes, api_world.tokens)

    assert found == [], "\n".join(found)


def test_no_hostile_query_gets_a_server_error_and_each_is_refused_by_name(
    api_world, client: Client
):
    probes = (
        probe
        for operation in operations(api_world.path_values)
        for probe in query_probes(operation)
    )

    found = faults(client, probes, api_world.tokens)

    assert found == [], "\n".join(found)


def test_no_hostile_path_gets_a_server_error_on_any_url_pattern(
    api_world, client: Client, admin_user
):
    # Pages outside /api/ are tried signed in as a superuser, so the admin's views run too.
    client.force_login(admin_user)
    templates = url_templates()

    found = faults(client, path_probes(templates, api_world.path_values), api_world.tokens)

    assert found == [], "\n".join(found)
    assert any(template.startswith("/admin/") for template in templates)
    assert "/api/doses/{dose_id}/take/" in templates
