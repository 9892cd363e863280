"""A database connection dropped under a request: a read is retried once, anything else gets
503 with Retry-After; never 500. On PostgreSQL, with the request's own connection really
terminated (pg_terminate_backend) as its first query is about to run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from medguard_backend.testing.factories import UserFactory, api_token
from notifications.services import NotificationService

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
