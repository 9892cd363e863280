# Load the Celery app whenever Django starts, so @shared_task binds to it and
# `celery -A medguard_backend ...` finds it.
from .celery import app as celery_app

__all__ = ("celery_app",)
