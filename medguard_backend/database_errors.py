"""A dropped database connection answers 503 with ``Retry-After``, never 500.

A connection the server ended (a failover, a restart, ``pg_terminate_backend``) fails the
first query that meets it with ``OperationalError`` or ``InterfaceError``. That is the
service being briefly unavailable, not a bug: a read (GET, HEAD, OPTIONS, which change
nothing) is run once more on a new connection; anything else, or a read that fails again,
gets 503 with ``Retry-After`` (JSON under ``/api/``), so clients retry instead of
reporting an error. A write is never re-run here: it may have committed before the drop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
TRANSIENT = (OperationalError, InterfaceError)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransientDatabaseErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, TRANSIENT):
            return None
        logger.warning(
            "database unavailable during %s %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
        )
        if not _drop_broken_connections():
            return unavailable(request)
        match = request.resolver_match
        if request.method in SAFE_METHODS and match is not None:
            try:
                response: HttpResponse = match.func(request, *match.args, **match.kwargs)
            except TRANSIENT:
                _drop_broken_connections()
            else:
                return response
        return unavailable(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The service is briefly unavailable. Please try again in a few seconds.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=503)
    else:
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _drop_broken_connections() -> bool:
    """Close the connections that broke, so the next query opens a new one. False when one
    is inside a transaction (it cannot be replaced under the transaction's feet)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            return False
        with contextlib.suppress(DatabaseError, InterfaceError):
            connection.close_if_unusable_or_obsolete()
    return True
