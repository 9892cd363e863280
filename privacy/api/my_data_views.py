"""The caller's data: all of it as one JSON document (``GET /api/me/export/``), and erasing
it for good (``DELETE /api/me/``, with the password typed again)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.base import ApiView, caller
from notifications.api.schema import COMMON, INVALID
from notifications.api.validation import StrictFieldsMixin
from privacy.models import AuditAction, ErasureRecord
from privacy.services import audit
from privacy.services.erasure import erase_person
from privacy.services.export import export_chunks

TAG = "privacy"


class ExportView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Everything held about the caller, as one JSON document (streamed)",
        description=(
            "Profile, preferences, consents and their history, medicines, schedules, doses, "
            "notifications, deliveries, push devices, caregiver links and the audit trail "
            "about the caller. See the README for the document's shape."
        ),
        responses={200: OpenApiResponse(description="The export document."), **COMMON},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        user = caller(request)
        audit.record(
            subject_id=user.pk,
            actor=user,
            action=AuditAction.EXPORT,
            resource="export",
            ip_address=audit.client_ip(request),
        )
        response = StreamingHttpResponse(
            (chunk.encode() for chunk in export_chunks(user)),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="medguard-my-data.json"'
        return response


class ErasureSerializer(StrictFieldsMixin, serializers.Serializer):
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )


class MeView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Erase the caller's account and data, for good",
        description=(
            "Needs the caller's password again. Deletes the profile, preferences, devices, "
            "tokens, medicines, schedules, doses, notifications (and the caregivers' "
            "notifications about the caller), ends caregiver links and stops every pending "
            "delivery. Consent history and audit entries are kept without anything linking "
            "them to the person. 204 on success."
        ),
        request=ErasureSerializer,
        responses={204: None, 400: INVALID, **COMMON},
    )
    def delete(self, request: Request) -> Response:
        form = ErasureSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = caller(request)
        if not user.check_password(form.validated_data["password"]):
            raise ValidationError({"password": [_("That is not your password.")]})
        erase_person(user, method=ErasureRecord.Method.SELF)
        return Response(status=status.HTTP_204_NO_CONTENT)
