"""GET /health/ reports the database, cache and broker; a dead broker does not take the
site down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from medguard_backend.celery import app as celery_app

# Nothing listens on port 1 of loopback: connecting is refused at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down() -> Iterator[None]:
    # broker_write_url, not broker_url: Celery lets a CELERY_BROKER_URL environment variable
    # win over broker_url, and publishing (what the check does) uses the write URL.
    original = celery_app.conf.broker_write_url
    celery_app.conf.broker_write_url = UNREACHABLE_BROKER
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = original


@pytest.mark.django_db
def test_health_is_ok_when_everything_is_reachable(client: Client) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "failing": [],
        "components": {
            "database": {"status": "ok"},
            "cache": {"status": "ok"},
            "broker": {"status": "ok"},
        },
    }


@pytest.mark.django_db
def test_health_names_an_unreachable_broker_and_answers_503(client: Client, broker_down) -> None:
    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["components"]["database"] == {"status": "ok"}
    assert body["components"]["broker"]["status"] == "error"


@pytest.mark.django_db
def test_pages_still_work_while_the_broker_is_down(client: Client, broker_down) -> None:
    response = client.get("/admin/login/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_health_is_not_cached(client: Client) -> None:
    response = client.get("/health/")

    assert "no-cache" in response["Cache-Control"]
