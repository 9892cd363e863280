"""The Celery application: `celery -A medguard_backend worker|beat|inspect|purge`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medguard_backend.settings.dev")

app = Celery("medguard_backend")
# Every CELERY_* Django setting configures Celery (CELERY_TASK_ROUTES -> task_routes, ...).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
