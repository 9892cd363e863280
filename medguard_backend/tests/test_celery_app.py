"""The Celery app is configured as the seed document shows, and really runs tasks."""

from __future__ import annotations

import json

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings

from medguard_backend.celery import app
from medguard_backend.testing.processes import run_manage
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


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("redis://127.0.0.1:6379/0", "medguard_backend.broker.Transport"),
        ("rediss://127.0.0.1:6380/0", "medguard_backend.broker.Transport"),
        ("filesystem://localhost/", "medguard_backend.broker.FilesystemTransport"),
    ],
)
def test_every_connection_to_a_patched_scheme_uses_our_transport(url: str, transport: str) -> None:
    # Not only the app's broker: the health check's and a test's private broker too.
    cls = type(app.connection_for_write(url).transport)
    assert f"{cls.__module__}.{cls.__qualname__}" == transport


def test_reliability_settings_are_chosen() -> None:
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup is True
    assert conf.timezone == "Africa/Johannesburg"
    assert conf.task_soft_time_limit < conf.task_time_limit


def celery_conf_for_broker(url: str) -> dict[str, object]:
    """The Celery configuration a process started with this broker URL gets."""
    code = (
        "import json\n"
        "from medguard_backend.celery import app\n"
        "c = app.conf\n"
        "print(json.dumps({'transport_options': c.broker_transport_options,"
        " 'time_limit': c.task_time_limit, 'default_queue_type': c.task_default_queue_type,"
        " 'cancel_on_connection_loss': c.worker_cancel_long_running_tasks_on_connection_loss,"
        " 'queues': {q.name: q.queue_arguments for q in c.task_queues}}))\n"
    )
    done = run_manage("shell", "--no-imports", "-c", code, CELERY_BROKER_URL=url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_on_redis_a_running_task_is_not_handed_to_a_second_worker() -> None:
    conf = celery_conf_for_broker("redis://127.0.0.1:6379/0")

    assert conf["transport_options"]["visibility_timeout"] > conf["time_limit"]  # type: ignore[index]
    assert conf["queues"] == {"celery": None, "notifications": None, "medications": None}


def test_on_rabbitmq_the_three_queues_are_quorum_queues_with_publisher_confirms() -> None:
    conf = celery_conf_for_broker("amqp://guest:guest@127.0.0.1:5672/medguard")

    quorum = {"x-queue-type": "quorum"}
    assert conf["queues"] == {"celery": quorum, "notifications": quorum, "medications": quorum}
    assert conf["transport_options"] == {"confirm_publish": True}  # and no visibility timeout
    assert conf["default_queue_type"] == "quorum"
    assert conf["cancel_on_connection_loss"] is True


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
