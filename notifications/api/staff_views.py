"""Staff tools. Staff: ``is_staff`` or ``user_type == "staff"`` (see permissions.py)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from notifications.services import NotificationService

from .base import ApiView, caller, checked_id
from .permissions import IsStaffMember
from .reports import delivery_report
from .schema import COMMON, NOT_FOUND, WITH_BODY
from .staff_serializers import (
    DeliveryReportSerializer,
    SendResultSerializer,
    SystemNotificationSerializer,
)

TAG = "staff"
STAFF_ONLY = "Staff only (`is_staff`, or `user_type` staff); anyone else gets 403."


class StaffView(ApiView):
    permission_classes = [IsAuthenticated, IsStaffMember]


class SystemNotificationView(StaffView):
    @extend_schema(
        tags=[TAG],
        summary="Send a system notification to every active user of the given types",
        description=(
            "Shown in the app at once and sent on each recipient's channels according to "
            "their preferences (quiet hours, email time). Returns what was recorded per "
            "channel. " + STAFF_ONLY
        ),
        request=SystemNotificationSerializer,
        responses={201: SendResultSerializer, **WITH_BODY},
    )
    def post(self, request: Request) -> Response:
        serializer = SystemNotificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = NotificationService.send_system_notification(
                **serializer.validated_data, created_by=caller(request)
            )
        except ValueError as error:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [str(error)]}
            ) from None
        return Response(result.as_dict(), status=status.HTTP_201_CREATED)


class DeliveryReportView(StaffView):
    @extend_schema(
        tags=[TAG],
        summary="A notification's deliveries counted by channel and status",
        description=STAFF_ONLY,
        parameters=[OpenApiParameter("notification_id", int, OpenApiParameter.PATH)],
        responses={200: DeliveryReportSerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, notification_id: int) -> Response:
        report = delivery_report(checked_id(notification_id))
        if report is None:
            raise NotFound
        return Response(report)
