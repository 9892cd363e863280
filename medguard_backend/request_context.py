"""The request id and task id that every log line of a piece of work carries.

A request gets its id from ``X-Request-ID`` (when it is a sane token) or a new one, and
answers with it. Every task published while it is handled — and every task those tasks
publish — carries it in a message header, so the worker's log lines can be found from the
request that caused them. Messages also carry the time they were published, which the beat
heartbeat uses.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery.signals import before_task_publish, task_prerun
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from outside are echoed into logs: only a short token of safe characters is taken.
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
_task_name: ContextVar[str | None] = ContextVar("task_name", default=None)
# The caller's address, for the audit entries a service writes while handling the request
# (the services are called from pages and the API alike and take no request).
_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current() -> dict[str, str | None]:
    return {"request_id": _request_id.get(), "task_id": _task_id.get(), "task": _task_name.get()}


def client_ip() -> str | None:
    """REMOTE_ADDR of the request being handled, if any (see ``privacy.services.audit``)."""
    return _client_ip.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = offered if _ACCEPTABLE_ID.fullmatch(offered) else new_request_id()
        token = _request_id.set(request_id)
        ip_token = _client_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            response = self.get_response(request)
        finally:
            _client_ip.reset(ip_token)
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def published_at(task_request: Any) -> datetime | None:
    """When the message a task runs for was published (our header), if it says."""
    value = getattr(task_request, "published_at", None)
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


@before_task_publish.connect
def _stamp_message(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    headers.setdefault("published_at", time.time())
    request_id = _request_id.get()
    if request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@task_prerun.connect
def _enter_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    # Set (never cleared after the task): Celery logs the task's "succeeded" line after
    # its postrun signal, and that line belongs to the task too. The next task replaces
    # all three.
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    _request_id.set(request_id if isinstance(request_id, str) else None)
    _task_id.set(task_id)
    _task_name.set(getattr(task, "name", None))
