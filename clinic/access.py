"""Who may use the clinic pages: MedGuard staff (``is_staff`` or user type staff) and
healthcare providers see the dashboard and reports; only staff broadcast, as in the API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from notifications.api.permissions import is_staff_member

HEALTHCARE_PROVIDER = "healthcare_provider"

View = Callable[..., HttpResponse]


def may_see_dashboard(user: Any) -> bool:
    return is_staff_member(user) or bool(
        user.is_authenticated
        and user.is_active
        and getattr(user, "user_type", None) == HEALTHCARE_PROVIDER
    )


def _guarded(allowed: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # Signed in but not staff: a plain refusal, not a sign-in page they cannot pass.
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


dashboard_access = _guarded(may_see_dashboard)
broadcast_access = _guarded(is_staff_member)
