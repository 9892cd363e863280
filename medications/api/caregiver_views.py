"""A caregiver's read-only view of the patients linked to them.

404 when the caller has no active link to the patient (as for any id that is not theirs);
403 when linked but the patient has not allowed medication details: the caregiver already
knows the patient (they are in `GET /api/patients/`), so the 403 reveals nothing and tells
them why, which a 404 would hide.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from medications import doses
from medications.models import CaregiverLink
from notifications.api.base import ApiView, caller, checked_id
from notifications.api.schema import COMMON, INVALID, detail_response

from .action_serializers import DoseQuerySerializer
from .caregivers import active_links, link_to
from .dose_views import LIST_DESCRIPTION, dose_page
from .pagination import DoseCursorPagination
from .serializers import DoseSerializer, PatientSerializer, SupplySerializer
from .supply_items import active_supplies, local_today, supply_items

TAG = "caregivers"
PATIENT_ID = OpenApiParameter(
    "patient_id", int, OpenApiParameter.PATH, description="The patient's id (`id` in the list)."
)
NOT_LINKED = "Not found: the caller has no active link to this patient."
NOT_ALLOWED = detail_response(
    "Linked, but the patient has not allowed the caller to see medication details (or a "
    "CSRF failure for a session)."
)


def linked(request: Request, patient_id: int) -> CaregiverLink:
    try:
        return link_to(caller(request), checked_id(patient_id))
    except CaregiverLink.DoesNotExist:
        raise NotFound from None


class PatientListView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The patients linked to the caller as their caregiver",
        description=(
            "Through the caller's active caregiver links, by name; empty for someone who "
            "cares for nobody. `escalation_delay_minutes` and `can_see_medication_details` "
            "are the link's: what the patient decided for this caregiver."
        ),
        responses={200: PatientSerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        links = active_links(caller(request)).order_by(
            "patient__first_name", "patient__last_name", "patient__username", "pk"
        )
        return Response(PatientSerializer(links, many=True).data)


class PatientDoseListView(ApiView, GenericAPIView):
    pagination_class = DoseCursorPagination

    @extend_schema(
        tags=[TAG],
        summary="A linked patient's doses, newest first (read-only)",
        description=(
            LIST_DESCRIPTION + " `medication` is null unless the patient allows the caller "
            "medication details."
        ),
        parameters=[PATIENT_ID, DoseQuerySerializer],
        responses={
            200: DoseSerializer(many=True),
            400: INVALID,
            404: detail_response(NOT_LINKED),
            **COMMON,
        },
    )
    def get(self, request: Request, patient_id: int) -> Response:
        link = linked(request, patient_id)
        patient_doses = doses.doses_for(link.patient)
        if link.can_see_medication_details:
            patient_doses = patient_doses.select_related("schedule__supply__medicine")
        return dose_page(
            self, patient_doses, link.patient.timezone, visible=link.can_see_medication_details
        )


class PatientMedicationListView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="A linked patient's medications (read-only)",
        description=(
            "As the patient sees them in `GET /api/medications/`, forecast in the patient's "
            "own calendar days. Only when the patient allows the caller medication details: "
            "**403** otherwise (the link exists but does not allow it); 404 without an "
            "active link."
        ),
        parameters=[PATIENT_ID],
        responses={
            200: SupplySerializer(many=True),
            404: detail_response(NOT_LINKED),
            **COMMON,
            403: NOT_ALLOWED,
        },
    )
    def get(self, request: Request, patient_id: int) -> Response:
        link = linked(request, patient_id)
        if not link.can_see_medication_details:
            raise PermissionDenied(
                _("This patient has not allowed you to see their medication details.")
            )
        items = supply_items(active_supplies(link.patient_id), local_today(link.patient))
        return Response(SupplySerializer(items, many=True).data)
