"""GET, PUT and PATCH /api/notification-preferences/: the caller's own preferences."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.policy.preferences import get_preferences

from .base import ApiView, caller
from .preferences import save_preferences
from .schema import COMMON, WITH_BODY
from .serializers import PreferencesSerializer

TAG = "preferences"
SEED_EXAMPLE = OpenApiExample(
    "Evening quiet hours, morning email",
    value={
        "email_notifications_enabled": True,
        "email_time_preference": "morning",
        "quiet_hours_enabled": True,
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "08:00",
    },
    request_only=True,
)
WRITE_DESCRIPTION = (
    "Times are wall-clock `HH:MM` in the caller's own time zone; quiet hours may cross "
    "midnight. `email_time_preference: custom` needs `email_custom_time`. Unknown and "
    "read-only fields are refused (400, naming them)."
)


class PreferencesView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's notification preferences",
        description="A user who never saved any gets the defaults (nothing is stored).",
        responses={200: PreferencesSerializer, **COMMON},
    )
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(get_preferences(caller(request).pk)).data)

    @extend_schema(
        tags=[TAG],
        summary="Update the caller's notification preferences",
        description=(
            "As the original API shows it, PUT takes the fields to change (the seed's own "
            "example sends five of them): **fields left out keep their current values**, "
            "exactly like PATCH. Nothing is reset to a default by omission. " + WRITE_DESCRIPTION
        ),
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, **WITH_BODY},
        examples=[SEED_EXAMPLE],
    )
    def put(self, request: Request) -> Response:
        return self._update(request)

    @extend_schema(
        tags=[TAG],
        summary="Change some of the caller's notification preferences",
        description=WRITE_DESCRIPTION,
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, **WITH_BODY},
    )
    def patch(self, request: Request) -> Response:
        return self._update(request)

    def _update(self, request: Request) -> Response:
        user = caller(request)
        serializer = PreferencesSerializer(
            get_preferences(user.pk), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        try:
            saved = save_preferences(user.pk, serializer.validated_data)
        except DjangoValidationError as error:
            # Another device saved in between and the two writes together break a rule.
            raise serializers.ValidationError(error.message_dict) from None
        return Response(PreferencesSerializer(saved).data)
