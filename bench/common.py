"""What the benchmarks share: the PostgreSQL bench database, fast COPY set-up, memory."""

from __future__ import annotations

import io
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "medguard_bench"


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "medguard_backend.settings.test"
    import django

    django.setup()


def ensure_database() -> None:
    """Create the database DATABASE_URL names (medguard_bench by default) if it is missing."""
    from urllib.parse import urlsplit

    import psycopg

    url = os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    name = urlsplit(url).path.lstrip("/")
    admin_url = url.replace(f"/{name}", "/postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            c.execute(f'CREATE DATABASE "{name}"')


def reset_tables() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_deliveryattempt, notifications_delivery, "
            "notifications_notificationrecipient, notifications_notification, "
            "notifications_usernotificationpreferences, notifications_pushdevice, "
            "medications_medicine, accounts_user CASCADE"
        )


def create_users(count: int) -> None:
    from django.db import connection

    buffer = io.StringIO()
    for i in range(count):
        buffer.write(
            f"bench{i}\tbench{i}@example.org\tpatient\ten\tAfrica/Johannesburg\t\t"
            f"!\tf\tf\tt\t2026-01-01 00:00:00+00\t\t\n"
        )
    buffer.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.copy(
            "COPY accounts_user (username, email, user_type, preferred_language, timezone, phone, "
            "password, is_superuser, is_staff, is_active, date_joined, first_name, last_name) "
            "FROM STDIN"
        ) as copy,
    ):
        copy.write(buffer.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
