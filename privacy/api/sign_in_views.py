"""The caller's signed-in devices: list them, sign one out, or sign out everywhere."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.api.base import ApiView, caller
from notifications.api.schema import COMMON, NOT_FOUND
from notifications.api.validation import EmptyBodySerializer, refuse_any_body
from privacy.services.sign_ins import sign_ins, sign_out_device, sign_out_everywhere

TAG = "privacy"


class SignInSerializer(serializers.Serializer):
    id = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.BooleanField(help_text="The token this request was made with.")


def _current_digest(request: Request) -> str | None:
    return getattr(request.auth, "digest", None)


class SignInListView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's signed-in devices (API tokens still valid), newest first",
        responses={200: SignInSerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        found = sign_ins(caller(request), _current_digest(request))
        return Response(SignInSerializer(found, many=True).data)


class SignInDetailView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Sign one device out (its token stops working at once)",
        parameters=[
            OpenApiParameter(
                "sign_in_id",
                str,
                OpenApiParameter.PATH,
                pattern="^[0-9a-f]{16}$",
                description="`id` in the list of sign-ins.",
            )
        ],
        responses={204: None, 404: NOT_FOUND, **COMMON},
    )
    def delete(self, request: Request, sign_in_id: str) -> Response:
        if not sign_out_device(caller(request), sign_in_id):
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Sign out everywhere: every API token and web session of the caller ends",
        description="Takes no body: anything sent along is refused (400) and nothing ends.",
        request=EmptyBodySerializer,
        responses={204: None, **COMMON},
    )
    def post(self, request: Request) -> Response:
        # As every action endpoint: a body is a mistake, refused before anything happens.
        refuse_any_body(request)
        sign_out_everywhere(caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
