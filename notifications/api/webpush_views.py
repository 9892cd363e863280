"""The VAPID public key a browser needs to subscribe to Web Push (``applicationServerKey``)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from .base import ApiView
from .schema import COMMON


class VapidPublicKeyView(ApiView):
    @extend_schema(
        tags=["push"],
        summary="The server's VAPID public key for Web Push subscriptions",
        description=(
            "Pass `publicKey` (base64url, an uncompressed P-256 point) as "
            "`applicationServerKey` to `PushManager.subscribe`, then register the "
            "subscription at `/api/web-push-subscriptions/`."
        ),
        responses={
            200: inline_serializer("VapidPublicKey", {"publicKey": serializers.CharField()}),
            404: OpenApiResponse(description="Web Push is not configured on this server."),
            **COMMON,
        },
    )
    def get(self, request: Request) -> Response:
        if not settings.WEBPUSH_VAPID_PUBLIC_KEY:
            raise NotFound(_("Web Push is not configured on this server."))
        return Response({"publicKey": settings.WEBPUSH_VAPID_PUBLIC_KEY})
