"""Tests: the same services as configured in the environment (SQLite and the filesystem
broker by default; PostgreSQL and Redis in CI's second run), kept apart from a running
development instance."""

import os

from .base import *  # noqa: F403
from .base import (
    CELERY_BROKER_TRANSPORT_OPTIONS,
    CELERY_BROKER_URL,
    DATABASES,
    PROMETHEUS_MULTIPROC_DIR,
)
from .env import VAR_DIR, env, filesystem_broker_options

SECRET_KEY = "test-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
DEBUG = False
# Hashing passwords properly costs ~100 ms per user; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A suite started from inside the suite (the `manage.py test` test) needs its own database.
_suffix = env.str("MEDGUARD_TEST_DB_SUFFIX", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so that Celery worker processes started by the tests share
    # the test database with the test process.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db{_suffix}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}{_suffix}"}

if CELERY_BROKER_URL.startswith("filesystem://"):
    # Apart from a running development instance's broker, and polled faster.
    CELERY_BROKER_TRANSPORT_OPTIONS |= filesystem_broker_options(VAR_DIR / "test-broker", 0.2)

MEDGUARD_ALLOW_DEMO_DATA = True

# Metrics of the test run's processes (the tests and the workers they start) apart from a
# development instance's; conftest.py empties the folder when a run starts.
if str(VAR_DIR / "metrics") == PROMETHEUS_MULTIPROC_DIR:
    PROMETHEUS_MULTIPROC_DIR = str(VAR_DIR / f"test-metrics{_suffix}")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
