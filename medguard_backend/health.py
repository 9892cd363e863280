"""GET /health/, /health/live and /health/ready (see ``monitoring.checks`` for the scopes).

Written here rather than taken from django-health-check: its Celery check sends a task and
waits for a worker, while a load balancer needs a quick answer about the services this
process depends on, each bounded by a short timeout so that one service being down cannot
make the check (or the site) hang. Workers and beat are judged by their heartbeats.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .monitoring.checks import Scope, report


def _answer(scope: Scope) -> JsonResponse:
    ok, body = report(scope)
    return JsonResponse(body, status=200 if ok else 503)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return _answer("full")


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return _answer("live")


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    return _answer("ready")
