"""The caller's consents: read them, give or withdraw one; and staff recording an answer
on a patient's behalf (with a reason)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.base import ApiView, caller, checked_id
from notifications.api.permissions import IsStaffMember
from notifications.api.schema import COMMON, INVALID, NOT_FOUND
from notifications.api.validation import StrictFieldsMixin
from privacy.models import ConsentMethod, Purpose
from privacy.services import audit
from privacy.services.consent import current_consents, record_consent

TAG = "privacy"


class ConsentStateSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    granted = serializers.BooleanField()
    wording = serializers.CharField(help_text="The text to show before asking.")
    wording_version = serializers.CharField(help_text="Send this back when giving consent.")
    recorded_at = serializers.DateTimeField(allow_null=True)
    method = serializers.CharField(allow_blank=True)
    wording_version_agreed = serializers.CharField(allow_blank=True)


class ConsentAnswerSerializer(StrictFieldsMixin, serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    granted = serializers.BooleanField()
    wording_version = serializers.CharField(max_length=32, required=False, default="")


class StaffConsentAnswerSerializer(ConsentAnswerSerializer):
    reason = serializers.CharField(max_length=300)


def _apply(
    request: Request, user_id: int, answer: dict[str, object], method: str, reason: str = ""
) -> Response:
    User = get_user_model()
    user = get_object_or_404(User, pk=checked_id(user_id))
    try:
        record_consent(
            user,
            purpose=str(answer["purpose"]),
            granted=bool(answer["granted"]),
            method=method,
            wording_version=str(answer["wording_version"]),
            actor=caller(request),
            reason=reason,
            ip_address=audit.client_ip(request),
        )
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from None
    states = ConsentStateSerializer(current_consents(user), many=True).data
    return Response(states, status=status.HTTP_201_CREATED)


class MyConsentsView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's consent per purpose, with the wording to show",
        responses={200: ConsentStateSerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        return Response(ConsentStateSerializer(current_consents(caller(request)), many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Give or withdraw consent for one purpose",
        description=(
            "Giving (`granted: true`) needs the `wording_version` returned by GET, i.e. the "
            "text the person was shown; withdrawing needs only the purpose. Withdrawal is "
            "effective at once: waiting deliveries on that channel are cancelled. Answers "
            "every purpose's state, as GET does."
        ),
        request=ConsentAnswerSerializer,
        responses={201: ConsentStateSerializer(many=True), 400: INVALID, **COMMON},
    )
    def post(self, request: Request) -> Response:
        answer = ConsentAnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        return _apply(request, caller(request).pk, answer.validated_data, ConsentMethod.API)


class StaffConsentView(ApiView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        tags=[TAG],
        summary="Staff record a patient's consent answer on their behalf (with a reason)",
        request=StaffConsentAnswerSerializer,
        responses={
            201: ConsentStateSerializer(many=True),
            400: INVALID,
            404: NOT_FOUND,
            **COMMON,
        },
    )
    def post(self, request: Request, user_id: int) -> Response:
        answer = StaffConsentAnswerSerializer(data=request.data)
        answer.is_valid(raise_exception=True)
        data = answer.validated_data
        return _apply(request, user_id, data, ConsentMethod.ADMIN, reason=data["reason"])
