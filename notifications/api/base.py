"""What every API view shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.utils.cache import add_never_cache_headers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from .i18n import CallerLanguageMixin

if TYPE_CHECKING:
    from accounts.models import User

# Larger ids cannot exist (64-bit keys) and would overflow SQLite's integer binding.
MAX_ID = 2**63 - 1


class ApiView(CallerLanguageMixin):
    """An authenticated view answering in the caller's language. (Also mixed in before
    GenericAPIView.)"""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        # Someone's medication notifications: never kept by a proxy or a shared browser.
        add_never_cache_headers(response)
        return response


def caller(request: Request) -> User:
    """The signed-in user (the view's permissions guarantee there is one)."""
    return cast("User", request.user)


def checked_id(value: int) -> int:
    if value > MAX_ID:
        raise NotFound
    return value
