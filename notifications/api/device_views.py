"""Registering the caller's phone (Expo or FCM) and browser (Web Push) for push
notifications."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.models import PushDevice

from . import devices
from .base import ApiView, caller
from .device_serializers import (
    PHONE_PUSH_TOKEN,
    ExpoPushTokenSerializer,
    WebPushSubscriptionSerializer,
    WebPushUnsubscribeSerializer,
)
from .schema import COMMON, INVALID, NOT_FOUND, WITH_BODY, detail_response

TAG = "push"
REGISTERED = "Registered again (or moved to the caller after its previous owner released it)."
UNREGISTERED = OpenApiResponse(description="No longer used for push notifications.")
HELD = detail_response(
    "The device is registered to another account that has not released it (it stays "
    "theirs, and their reminders keep going to it)."
)
OWNERSHIP = (
    " A device registered to another account moves to the caller only after that account "
    "released it (unregistered it, which the app does on sign-out), the push service "
    "reported it gone, or the account was closed; until then the request is refused with "
    "409 and nothing changes, so that no one can silently stop another patient's reminders."
)


class DeviceHeld(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _(
        "This device is registered to another account. Sign out of that account on the "
        "device (or remove the device there) first."
    )
    default_code = "device_held_by_another_account"


class ExpoPushTokenView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Register the caller's phone for push notifications",
        description=(
            "The body is what the MedGuard app sends: `token` (an Expo push token, "
            "`ExponentPushToken[...]`, or an FCM registration token from a build that talks "
            "to Firebase directly), `platform`, `deviceModel`, `osVersion`. The caller's "
            "own token is re-activated." + OWNERSHIP
        ),
        request=ExpoPushTokenSerializer,
        responses={
            201: ExpoPushTokenSerializer,
            200: OpenApiResponse(ExpoPushTokenSerializer, description=REGISTERED),
            409: HELD,
            **WITH_BODY,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = ExpoPushTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            device, created = devices.register_expo_device(
                caller(request), **serializer.validated_data
            )
        except devices.DeviceHeldByAnotherAccount:
            raise DeviceHeld from None
        return Response(
            ExpoPushTokenSerializer(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ExpoPushTokenDetailView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Unregister the caller's phone",
        description=(
            "The token goes in the path, URL-encoded (`ExponentPushToken%5B...%5D`). "
            "Idempotent for the caller's own token; anyone else's is not found."
        ),
        parameters=[
            OpenApiParameter("token", str, OpenApiParameter.PATH, pattern=PHONE_PUSH_TOKEN.pattern)
        ],
        responses={204: UNREGISTERED, 404: NOT_FOUND, **COMMON},
    )
    def delete(self, request: Request, token: str) -> Response:
        kind = devices.phone_token_kind(token)
        if not devices.unregister(caller(request).pk, kind, token):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebPushSubscriptionView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Register the caller's browser for push notifications",
        description=(
            "The body is the browser's `PushSubscription.toJSON()` as it comes: an https "
            "`endpoint`, `keys` (`p256dh`, `auth`, base64url) and `expirationTime` "
            "(accepted, not stored). The caller's own subscription is re-activated." + OWNERSHIP
        ),
        request=WebPushSubscriptionSerializer,
        responses={
            201: WebPushSubscriptionSerializer,
            200: OpenApiResponse(WebPushSubscriptionSerializer, description=REGISTERED),
            409: HELD,
            **WITH_BODY,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = WebPushSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            device, created = devices.register_web_push(
                caller(request), data["token"], data["keys"]
            )
        except devices.DeviceHeldByAnotherAccount:
            raise DeviceHeld from None
        return Response(
            WebPushSubscriptionSerializer(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=[TAG],
        summary="Unregister the caller's browser",
        description=(
            "The subscription's endpoint goes in the query string (`?endpoint=`, "
            "URL-encoded): a URL cannot be a path segment, and OpenAPI gives a DELETE body "
            "no meaning, so generated clients drop it. Idempotent for the caller's own "
            "subscription; anyone else's is not found."
        ),
        parameters=[WebPushUnsubscribeSerializer],
        responses={204: UNREGISTERED, 400: INVALID, 404: NOT_FOUND, **COMMON},
    )
    def delete(self, request: Request) -> Response:
        serializer = WebPushUnsubscribeSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        endpoint = serializer.validated_data["endpoint"]
        if not devices.unregister(caller(request).pk, PushDevice.Kind.WEB_PUSH, endpoint):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)
