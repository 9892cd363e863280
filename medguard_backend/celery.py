"""The Celery application: `celery -A medguard_backend worker|beat|inspect|purge`."""

import os
import sys
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medguard_backend.settings.dev")

app = Celery("medguard_backend")
# Every CELERY_* Django setting configures Celery (CELERY_TASK_ROUTES -> task_routes, ...).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every worker writes a heartbeat for the queues it consumes (/health/, /metrics).
from medguard_backend.monitoring.worker_step import QueueHeartbeat  # noqa: E402

app.steps["consumer"].add(QueueHeartbeat)
# Signal handlers: request ids carried into tasks, delivery metrics after each batch.
import medguard_backend.metrics.worker  # noqa: E402
import medguard_backend.request_context  # noqa: E402, F401

if Path(sys.argv[0]).name == "celery":
    # `celery -A medguard_backend ...` reads settings lazily and would bury a bad variable
    # in a long traceback; read them now and say in one line what is wrong.
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 - evaluating the settings is the point
    except ImproperlyConfigured as error:
        raise SystemExit(f"configuration error: {error}") from None
