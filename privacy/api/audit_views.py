"""The audit trail about a person: the person's own, and any patient's for staff."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.base import ApiView, caller, checked_id
from notifications.api.pagination import BoundedCursorPagination
from notifications.api.permissions import IsStaffMember
from notifications.api.schema import COMMON, INVALID, NOT_FOUND
from privacy.models import AuditAction, AuditEntry
from privacy.services import audit

TAG = "privacy"


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = AuditEntry
        fields = (
            "at",
            "actor",
            "actor_role",
            "action",
            "resource",
            "object_id",
            "what",
            "ip_address",
        )


class AuditPagination(BoundedCursorPagination):
    # Bounded as every list of the API: a malformed cursor or page size is a 400 naming it.
    ordering = ("-at", "-pk")
    page_size = 50


class _AuditList(ApiView, GenericAPIView):
    pagination_class = AuditPagination
    serializer_class = AuditEntrySerializer

    def page_about(self, request: Request, user_id: int) -> Response:
        queryset = audit.entries_about(user_id).select_related("actor")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(AuditEntrySerializer(page, many=True).data)


class MyAuditView(_AuditList):
    @extend_schema(
        tags=[TAG],
        summary="Who saw or changed what about the caller, newest first",
        responses={200: AuditEntrySerializer(many=True), 400: INVALID, **COMMON},
    )
    def get(self, request: Request) -> Response:
        return self.page_about(request, caller(request).pk)


class StaffAuditView(_AuditList):
    permission_classes = [IsStaffMember]

    @extend_schema(
        tags=[TAG],
        summary="Who saw or changed what about one person (staff), newest first",
        responses={200: AuditEntrySerializer(many=True), 400: INVALID, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, user_id: int) -> Response:
        subject = get_object_or_404(get_user_model(), pk=checked_id(user_id))
        # Staff reading someone's trail is itself a read of their data.
        audit.record(
            subject_id=subject.pk,
            actor=caller(request),
            action=AuditAction.READ,
            resource="audit",
            ip_address=audit.client_ip(request),
        )
        return self.page_about(request, subject.pk)
