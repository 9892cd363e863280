"""A dropped database connection answers 503 with ``Retry-After``, never 500.

A connection the server ended (a failover, a restart, ``pg_terminate_backend``) fails the
first query that meets it with ``OperationalError`` or ``InterfaceError``. That is the
service being briefly unavailable, not a bug: a read (GET, HEAD, OPTIONS, which change
nothing) is run once more on a new connection; anything else, or a read that fails again,
gets 503 with ``Retry-After`` (JSON under ``/api/``), so clients retry instead of
reporting an error. A write is never re-run here: it may have committed before the drop.

The whole request is covered, not only the view. Django turns an exception raised in a
middleware (the session saved in ``SessionMiddleware``'s response phase, the user looked up
for ``request.user`` by a middleware after ``AuthenticationMiddleware``) into a response
right there, through the 500 handler, so no middleware further out ever sees it raised:

- in the view, ``process_exception`` answers 503;
- anywhere else, ``server_error`` (the project's ``handler500``) answers 503 instead of the
  500 page, and logs a warning instead of Django's "Internal Server Error"; and
  ``bad_request`` (``handler400``) does the same for the session save, which Django reports
  as a 400 whatever the database error (under ``DEBUG`` Django shows its debug page
  instead, as for any error);
- the middleware, first in ``MIDDLEWARE`` after the request id and the latency timer, runs
  a read that got such a 503 once more, through every middleware, on new connections.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
TRANSIENT = (OperationalError, InterfaceError)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unavailable(HttpResponse):
    """503 with ``Retry-After``: the database was briefly unavailable. A type of its own, so
    that the middleware can tell it from a 503 a view chose to answer."""

    status_code = 503


class TransientDatabaseErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            isinstance(response, Unavailable)
            and request.method in SAFE_METHODS
            and _drop_broken_connections()
        ):
            logger.info("retrying %s %s on a new database connection", request.method, request.path)
            response = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, TRANSIENT):
            return None
        return _unavailable_after(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The project's ``handler500``: Django calls it while handling an exception that no
    view handled, raised anywhere in the request (a middleware included)."""
    exception = sys.exception()
    if exception is not None and _transient_cause(exception) is not None:
        return _unavailable_after(request, exception, logged_here=True)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The project's ``handler400``. Django's ``SessionMiddleware`` turns any database
    error while saving the session into ``SessionInterrupted``, a 400 ("the session was
    deleted before the request completed"); when the cause was a dropped connection, that
    is the service being unavailable, not the client's fault."""
    if _transient_cause(exception) is not None:
        return _unavailable_after(request, exception, logged_here=True)
    return defaults.bad_request(request, exception)


def _transient_cause(exception: BaseException) -> BaseException | None:
    """The transient database error that ``exception`` is, or was raised while handling."""
    seen: set[int] = set()
    found: BaseException | None = exception
    while found is not None and id(found) not in seen:
        if isinstance(found, TRANSIENT):
            return found
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return None


def _unavailable_after(
    request: HttpRequest, exception: BaseException, *, logged_here: bool = False
) -> HttpResponse:
    logger.warning(
        "database unavailable during %s %s: %s",
        request.method,
        request.path,
        type(_transient_cause(exception) or exception).__name__,
    )
    # Closed now, so that what runs after this (the session saved on the way out, the
    # retry) opens new connections rather than failing on the broken ones.
    _drop_broken_connections()
    response = unavailable(request)
    if logged_here:
        # Logged above as what it is: Django's own line ("Internal Server Error", a
        # suspicious session) would say otherwise.
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def unavailable(request: HttpRequest) -> HttpResponse:
    message = _("The service is briefly unavailable. Please try again in a few seconds.")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = Unavailable(json.dumps({"detail": message}), content_type="application/json")
    else:
        response = Unavailable(message, content_type="text/plain; charset=utf-8")
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
