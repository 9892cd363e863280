"""The header's unread badge: a tiny JSON answer polled by static/patients/badge.js.

Conditional polling, not server-sent events: a gunicorn sync worker serving an event stream
is held for as long as the tab stays open, so a few open tabs would take every worker. A
poll is one short request answered from the unread-count cache (no query while the count
is cached) and, when nothing changed, a 304 with no body."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from notifications.inbox.states import unread_count


def unread_badge(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the count the header shows before any poll."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": unread_count(user.pk)}


@require_GET
def unread(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # A signed-out tab stops polling; no redirect to a sign-in page it cannot show.
        return JsonResponse({"detail": "not signed in"}, status=401)
    count = unread_count(request.user.pk)
    etag = f'"unread-{request.user.pk}-{count}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"unread": count})
    response["ETag"] = etag
    # Kept only by this browser, and asked again each time (the poll is the point).
    patch_cache_control(response, private=True, no_cache=True)
    return response
