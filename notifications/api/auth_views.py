"""POST /api/auth/token/: the mobile app's login."""

from __future__ import annotations

from typing import Any

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from .parsers import BoundedJSONParser
from .schema import INVALID, THROTTLED, TOO_LARGE
from .throttles import ScopedThrottle
from .validation import StrictFieldsMixin


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(help_text="After this the token is refused: sign in again.")


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class StrictAuthTokenSerializer(StrictFieldsMixin, AuthTokenSerializer):
    """DRF's credentials check, refusing unknown keys, non-string values and overlong
    strings like every other body (DRF's fields have no length limit)."""

    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class ObtainTokenView(ObtainAuthToken):
    """DRF's view, with JSON only, strict input and a per-address limit on attempts (DRF's
    has none)."""

    serializer_class = StrictAuthTokenSerializer
    # Signing in asks for credentials in the body; a stale token sent along in the header
    # must not turn the answer into 401 (the app signs in again precisely when it expired).
    authentication_classes: list[type] = []
    parser_classes = [BoundedJSONParser]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "auth_token"

    @extend_schema(
        tags=["auth"],
        summary="Exchange a username and password for an API token",
        description=(
            "Send the token as `Authorization: Token <token>` on every request. Each sign-in "
            "issues a new token (one per device), stored hashed and valid until `expiry`."
        ),
        auth=[],
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 400: INVALID, 413: TOO_LARGE, 429: THROTTLED},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance, token = AuthToken.objects.create(user=serializer.validated_data["user"])
        response = Response({"token": token, "expiry": instance.expiry})
        add_never_cache_headers(response)  # a credential
        return response
