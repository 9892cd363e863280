"""API request latency by route: the URL pattern ("api/notifications/<int:pk>/"), not the
path, so the number of series stays the number of routes."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .instruments import REQUEST_LATENCY


class RequestLatencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        REQUEST_LATENCY.labels(
            request.method or "", route, f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response
