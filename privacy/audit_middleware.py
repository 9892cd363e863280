"""Audit entries for API calls that read or change a patient's data.

Declared per URL name rather than written into each view: a new view that exposes patient
data gets audited by adding one line here, and the views stay about what they answer.
Only successful calls are recorded (a 404 read nothing); a person reading their own data is
not recorded (it would bury the entries that matter), a person changing it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse

from privacy.models import AuditAction
from privacy.services import audit


class Audited(NamedTuple):
    resource: str
    methods: frozenset[str]
    subject_kwarg: str | None  # the URL argument naming the patient; None: the caller
    # A page's form answers a successful POST with a redirect, and a refused one with 200.
    success: range = range(200, 300)


READS = frozenset({"GET"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACTION_OF_METHOD = {
    "GET": AuditAction.READ,
    "POST": AuditAction.CHANGE,
    "PUT": AuditAction.CHANGE,
    "PATCH": AuditAction.CHANGE,
    "DELETE": AuditAction.DELETE,
}

AUDITED_ROUTES: dict[str, Audited] = {
    "medications-api:patient-medications": Audited("medications", READS, "patient_id"),
    "medications-api:patient-doses": Audited("doses", READS, "patient_id"),
    "medications-api:medications": Audited("medications", WRITES, None),
    "medications-api:medication": Audited("medications", WRITES, None),
    "medications-api:restock": Audited("medications", WRITES, None),
    "notifications-api:preferences": Audited("preferences", WRITES, None),
    "notifications-web:preferences": Audited("preferences", WRITES, None, range(300, 400)),
    # The web pages: a caregiver's page of a patient (their doses, adherence, missed doses,
    # medicine names if allowed), and a patient's changes to their medicines and schedules.
    "patients:caring": Audited("doses", READS, "patient_id"),
    "patients:add-medicine": Audited("medications", WRITES, None, range(300, 400)),
    "patients:medicine": Audited("medications", WRITES, None, range(300, 400)),
    "patients:add-schedule": Audited("medications", WRITES, None, range(300, 400)),
    "patients:remove-schedule": Audited("medications", WRITES, None, range(300, 400)),
    "patients:restock": Audited("medications", WRITES, None, range(300, 400)),
    "patients:stop": Audited("medications", WRITES, None, range(300, 400)),
    # Caregiver links and invitations are recorded by ``patients.caregivers`` itself: the
    # subject of an acceptance is the patient, not the caregiver who calls.
}


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if match is None:
            return response
        route = AUDITED_ROUTES.get(match.view_name)
        if route is None or request.method not in route.methods:
            return response
        if response.status_code not in route.success:
            return response
        actor = getattr(request, "user", None)
        if actor is None or not actor.is_authenticated:
            return response
        subject_id = int(match.kwargs[route.subject_kwarg]) if route.subject_kwarg else actor.pk
        if request.method == "GET" and subject_id == actor.pk:
            return response
        object_id = next((v for k, v in match.kwargs.items() if k != route.subject_kwarg), "")
        audit.record(
            subject_id=subject_id,
            actor=actor,
            action=ACTION_OF_METHOD[request.method or "GET"],
            resource=route.resource,
            object_id=object_id,
            what=f"{request.method} {match.view_name}",
            ip_address=audit.client_ip(request),
        )
        return response
