"""Requests no view should see, and errors under /api/ that must still be JSON.

A view only runs when the URL resolves; a 404 from the resolver (``/api/doses/null/take/``),
Django's 400 for a bad Host, or a 500 page are rendered by Django, in HTML, which an API
client cannot read. API paths answer ``{"detail": ...}`` for every error instead.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

_MESSAGES: dict[int, Callable[[], str]] = {
    400: lambda: _("Bad request."),
    403: lambda: _("You do not have permission to perform this action."),
    404: lambda: _("Not found."),
    405: lambda: _("Method not allowed."),
    500: lambda: _("Server error."),
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def api_error(status: int, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    add_never_cache_headers(response)
    return response


def has_nul(request: HttpRequest) -> bool:
    """A NUL character in the path or the query string (raw or percent-encoded): no id,
    token or filter contains one, and PostgreSQL refuses it in a query."""
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


class ApiRequestGuard:
    """Refuses a NUL in the URL with 400 before any view or query sees it, and turns every
    non-JSON error response under /api/ into ``{"detail": ...}`` with the same status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            if not is_api_path(request.path):
                return HttpResponse(status=400)
            # Refused before LocaleMiddleware runs: pick the caller's language here.
            with translation.override(translation.get_language_from_request(request)):
                return api_error(400, _("The address cannot contain a NUL character."))
        if is_api_path(request.path) and _body_without_type(request):
            # DRF would read such a body as "no data" and an action would go ahead.
            with translation.override(translation.get_language_from_request(request)):
                return api_error(415, _("Send the request body as application/json."))
        response = self.get_response(request)
        if (
            is_api_path(request.path)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            json_response = api_error(response.status_code, _message(response.status_code))
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response


def _body_without_type(request: HttpRequest) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    has_body = not length.isdigit() or int(length) > 0
    return has_body and not request.META.get("CONTENT_TYPE", "").strip()


def _message(status: int) -> str:
    message = _MESSAGES.get(status)
    if message is not None:
        return message()
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _MESSAGES[400]()
