"""The Celery app is configured as the seed document shows, and really runs tasks."""

from __future__ import annotations

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings

from medguard_backend.celery import app
from medications.tasks import ping as medications_ping
from notifications.tasks import ping as notifications_ping


def test_beat_uses_the_database_scheduler_from_the_seed() -> None:
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


def test_task_routes_are_exactly_the_seeds() -> None:
    assert settings.CELERY_TASK_ROUTES == {
        "notifications.tasks.*": {"queue": "notifications"},
        "medications.tasks.*": {"queue": "medications"},
    }


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("notifications.tasks.ping", "notifications"),
        ("medications.tasks.ping", "medications"),
        ("celery.backend_cleanup", "celery"),
    ],
)
def test_tasks_are_routed_to_their_apps_queue(task_name: str, queue: str) -> None:
    route = app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue


def test_a_worker_started_without_queues_consumes_all_three() -> None:
    assert set(app.amqp.queues) == {"celery", "notifications", "medications"}


def test_reliability_settings_are_chosen() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup is True
    assert conf.timezone == "Africa/Johannesburg"
    assert conf.task_soft_time_limit < conf.task_time_limit
    # Redis must not hand a running task to a second worker.
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit


@pytest.mark.worker
def test_a_real_worker_runs_a_task_on_each_queue(start_worker) -> None:
    worker = start_worker()
    notifications_result = notifications_ping.delay().get(timeout=60)
    medications_result = medications_ping.delay().get(timeout=60)

    assert notifications_result["queue"] == "notifications"
    assert medications_result["queue"] == "medications"
    log = worker.log()
    assert "notifications.tasks.ping" in log
    assert "medications.tasks.ping" in log


@pytest.mark.worker
def test_a_worker_on_one_queue_leaves_the_others_alone(start_worker) -> None:
    start_worker(queues=("medications",))
    medications_result = medications_ping.delay()
    notifications_result = notifications_ping.delay()

    assert medications_result.get(timeout=60)["queue"] == "medications"
    with pytest.raises(CeleryTimeoutError):
        notifications_result.get(timeout=3)
