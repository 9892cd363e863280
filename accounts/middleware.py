"""A signed-in user reads the site in the language they chose, not their browser's."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from notifications.rendering.messages import language_of


class UserLanguageMiddleware:
    """Activates the signed-in user's ``preferred_language`` after LocaleMiddleware chose
    one from the cookie or ``Accept-Language`` (which still decide for a visitor). The API
    keeps its own rule, ``Accept-Language`` first (notifications/api/i18n.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return self.get_response(request)
        language = language_of(user)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            # The browser keeps the person's language, so the sign-in page they see after
            # signing out (or when their session ends) still speaks it.
            remember_language(response, language)
        return response


def remember_language(response: HttpResponse, language: str) -> None:
    """The language cookie LocaleMiddleware reads for a visitor."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
    )
