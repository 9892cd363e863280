"""GET /health/ reports the database, cache and broker, beat and the workers of each queue;
/health/live and /health/ready are the orchestrator's split; a dead broker does not take
the site down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from medguard_backend.celery import app as celery_app
from medguard_backend.monitoring import heartbeats
from medguard_backend.testing.processes import run_manage

# Nothing listens on port 1 of loopback: connecting is refused at once.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_down() -> Iterator[None]:
    # broker_write_url, not broker_url: Celery lets a CELERY_BROKER_URL environment variable
    # win over broker_url, and publishing (what the check does) uses the write URL.
    # The raw setting (None: "the broker URL"), not the property, which answers with the
    # broker URL: restoring that would pin every later test's publishing to today's broker.
    original = celery_app.conf.get("broker_write_url")
    celery_app.conf.broker_write_url = UNREACHABLE_BROKER
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = original


QUEUES = ("celery", "notifications", "medications")


def heartbeats_seconds_ago(beat: float, queues: dict[str, float]) -> None:
    now = timezone.now()
    heartbeats.record([heartbeats.BEAT], now - timedelta(seconds=beat), "beat@host")
    for queue, age in queues.items():
        heartbeats.record_queues([queue], now - timedelta(seconds=age), f"{queue}@host")


@pytest.fixture
def everything_alive(db) -> None:
    heartbeats_seconds_ago(10, dict.fromkeys(QUEUES, 5))


def test_health_is_ok_when_everything_is_reachable(client: Client, everything_alive) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert {name: body["components"][name] for name in ("database", "cache", "broker")} == {
        "database": {"status": "ok"},
        "cache": {"status": "ok"},
        "broker": {"status": "ok"},
    }
    assert body["components"]["beat"]["status"] == "ok"
    assert body["components"]["beat"]["hostname"] == "beat@host"
    assert 10 <= body["components"]["beat"]["age_seconds"] < 15
    assert set(body["components"]["workers"]) == set(QUEUES)
    for queue in QUEUES:
        assert body["components"]["workers"][queue]["status"] == "ok"
        assert body["components"]["workers"][queue]["hostname"] == f"{queue}@host"
        assert 5 <= body["components"]["workers"][queue]["age_seconds"] < 10


@pytest.mark.django_db
def test_health_answers_503_when_beat_has_been_silent_for_over_two_minutes(
    client: Client,
) -> None:
    heartbeats_seconds_ago(121, dict.fromkeys(QUEUES, 5))

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["beat"]
    assert response.json()["components"]["beat"]["status"] == "error"


@pytest.mark.django_db
def test_health_names_a_queue_no_worker_consumes_and_answers_503(client: Client) -> None:
    heartbeats_seconds_ago(10, {"celery": 5, "medications": 61})

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["workers:notifications", "workers:medications"]
    assert body["components"]["workers"]["notifications"] == {
        "status": "error",
        "last": None,
        "age_seconds": None,
        "hostname": "",
    }
    assert body["components"]["workers"]["celery"]["status"] == "ok"


@pytest.mark.django_db
def test_live_and_ready_do_not_depend_on_beat_or_workers(client: Client) -> None:
    live = client.get("/health/live")
    ready = client.get("/health/ready")

    assert (live.status_code, live.json()) == (
        200,
        {"status": "ok", "failing": [], "components": {}},
    )
    assert ready.status_code == 200
    assert set(ready.json()["components"]) == {"database", "cache", "broker"}


@pytest.mark.django_db
def test_ready_fails_and_live_does_not_when_the_broker_is_down(client: Client, broker_down) -> None:
    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["broker"]


@pytest.mark.django_db(transaction=True)
def test_the_health_command_exits_non_zero_naming_what_fails() -> None:
    heartbeats_seconds_ago(300, dict.fromkeys(QUEUES, 5))

    full = run_manage("health")
    ready = run_manage("health", "--ready")
    live = run_manage("health", "--live")

    assert full.returncode == 1
    assert "unhealthy: beat" in full.stderr
    assert (ready.returncode, live.returncode) == (0, 0)
    assert '"failing": []' in ready.stdout


def test_health_names_an_unreachable_broker_and_answers_503(
    client: Client, broker_down, everything_alive
) -> None:
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
