"""A database connection dropped under a request: a read is retried once, anything else gets
503 with Retry-After; never 500. On PostgreSQL, with the request's own connection really
terminated (pg_terminate_backend) as a query is about to run: the first one, or one a
middleware runs outside the view (the session saved on the way out, the signed-in user
looked up for a page), which Django would otherwise turn into its 500 page on the spot."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions import middleware as session_middleware
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

import accounts.middleware
import notifications.api.authentication
from medguard_backend.testing.factories import UserFactory, api_token
from notifications.services import NotificationService

SESSION_MIDDLEWARE = str(Path(session_middleware.__file__ or ""))
USER_LANGUAGE_MIDDLEWARE = str(Path(accounts.middleware.__file__ or ""))
TOKEN_AUTHENTICATION = str(Path(notifications.api.authentication.__file__ or ""))
PASSWORD = "long-test-password-1"  # UserFactory's

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="pg_terminate_backend is PostgreSQL's"
    ),
]


def terminate(backend_pid: int) -> None:
    """End one server process from another connection, as an administrator or a failover
    would; only ever the test database's own connection."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "localhost",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid = %s AND datname = current_database()",
            [backend_pid],
        )


@pytest.fixture
def drop_connection_at_first_query() -> Iterator[Callable[[], None]]:
    """Arm: the request's next query finds its connection terminated by the server."""
    armed = {"on": False, "fired": 0}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if armed["on"]:
            armed["on"] = False
            armed["fired"] += 1
            terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    def arm() -> None:
        connection.ensure_connection()
        armed["on"] = True

    with connection.execute_wrapper(wrapper):
        yield arm
    assert armed["fired"] == 1, "the connection was never dropped"


def called_from(path: str) -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == path:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@pytest.fixture
def drop_connection_at() -> Iterator[Callable[..., None]]:
    """``drop_connection_at(table, caller, times=1)``: the next ``times`` queries on
    ``table`` run from inside the module at ``caller`` find their connection terminated by
    the server."""
    armed: dict[str, Any] = {"table": "", "caller": "", "left": 0, "expected": 0, "fired": 0}

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if armed["left"] and f'"{armed["table"]}"' in sql and called_from(armed["caller"]):
            armed["left"] -= 1
            armed["fired"] += 1
            terminate(context["connection"].connection.info.backend_pid)
        return execute(sql, params, many, context)

    def arm(table: str, caller: str, times: int = 1) -> None:
        connection.ensure_connection()
        armed.update(table=table, caller=caller, left=times, expected=armed["expected"] + times)

    with connection.execute_wrapper(wrapper):
        yield arm
    assert armed["fired"] == armed["expected"], "the connection was not dropped as armed"


@pytest.fixture
def patient_api() -> tuple[APIClient, Any]:
    cache.clear()
    patient = UserFactory()
    NotificationService.create_notification(
        "Clinic closed", "Friday", "general", "low", target_users=[patient]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(patient)}")
    return client, patient


def test_a_read_whose_connection_drops_is_answered_from_a_new_connection(
    patient_api, drop_connection_at_first_query
) -> None:
    client, _ = patient_api
    drop_connection_at_first_query()

    response = client.get("/api/notifications/unread-count/")

    assert response.status_code == 200
    assert response.json() == {"unread": 1}


def test_a_write_whose_connection_drops_gets_503_with_retry_after_and_changes_nothing(
    patient_api, drop_connection_at_first_query
) -> None:
    client, _ = patient_api
    drop_connection_at_first_query()

    response = client.post("/api/notifications/mark-all-read/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service is briefly unavailable. Please try again in a few seconds."
    }
    assert client.get("/api/notifications/unread-count/").json() == {"unread": 1}


def test_the_503_is_in_the_callers_language(patient_api, drop_connection_at_first_query) -> None:
    client, _ = patient_api
    drop_connection_at_first_query()

    response = client.post("/api/notifications/mark-all-read/", HTTP_ACCEPT_LANGUAGE="af")

    assert response.status_code == 503
    assert response.json()["detail"] == (
        "Die diens is kortstondig onbeskikbaar. Probeer asseblief oor 'n paar sekondes weer."
    )


# --- outside the view: Django's 500 page, unless the whole request is covered -------------


@pytest.fixture
def browser() -> Client:
    """A browser signed in to the web pages. Not raising what a request raised (the test
    client's default): the answer is what a real client would get."""
    cache.clear()
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="thandi"))
    return client


def test_a_sign_in_whose_session_save_drops_the_connection_gets_503_with_retry_after(
    drop_connection_at,
) -> None:
    cache.clear()
    UserFactory(username="thandi")
    client = Client(raise_request_exception=False)
    sessions_before = Session.objects.count()
    # SessionMiddleware saves the signed-in session on the way out, after the view answered.
    drop_connection_at(Session._meta.db_table, SESSION_MIDDLEWARE)

    response = client.post("/accounts/login/", {"login": "thandi", "password": PASSWORD})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.content.decode() == (
        "The service is briefly unavailable. Please try again in a few seconds."
    )
    # Not signed in by a session that was never saved; signing in again works.
    assert client.get("/notifications/").status_code == 302
    again = client.post("/accounts/login/", {"login": "thandi", "password": PASSWORD})
    assert again.status_code == 302
    assert Session.objects.count() > sessions_before


def test_a_page_whose_user_lookup_drops_the_connection_is_answered_from_a_new_one(
    browser, drop_connection_at
) -> None:
    # The user behind the session is looked up by a middleware (the page's language), before
    # any view runs.
    drop_connection_at(get_user_model()._meta.db_table, USER_LANGUAGE_MIDDLEWARE)

    response = browser.get("/notifications/")

    assert response.status_code == 200
    assert response.wsgi_request.user.username == "thandi"


def test_a_page_whose_user_lookup_fails_again_on_the_retry_gets_503_with_retry_after(
    browser, drop_connection_at
) -> None:
    drop_connection_at(get_user_model()._meta.db_table, USER_LANGUAGE_MIDDLEWARE, times=2)

    response = browser.get("/notifications/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert browser.get("/notifications/").status_code == 200


def test_a_form_post_whose_user_lookup_drops_the_connection_gets_503_and_is_not_rerun(
    browser, drop_connection_at
) -> None:
    drop_connection_at(get_user_model()._meta.db_table, USER_LANGUAGE_MIDDLEWARE)

    response = browser.post("/notifications/preferences/", {})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_an_api_read_whose_token_lookup_fails_twice_gets_503_in_json(
    patient_api, drop_connection_at
) -> None:
    client, _ = patient_api
    client.raise_request_exception = False
    drop_connection_at(AuthToken._meta.db_table, TOKEN_AUTHENTICATION, times=2)

    response = client.get("/api/notifications/unread-count/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The service is briefly unavailable. Please try again in a few seconds."
    }
    assert client.get("/api/notifications/unread-count/").json() == {"unread": 1}
