"""Benchmark of the morning slot on PostgreSQL (issue: medications).

    python3 dev.py bench reminders          # 100,000 active morning schedules

Measures, in one process: the time from the start of the "Morning Medication Reminders"
task until every dose, reminder notification, recipient and delivery is committed and
every due delivery is published to the broker (batches written by BATCH_WRITER_THREADS
threads, as the task does); the queries per batch, on every connection; peak memory; and,
in the same run, the floor: PostgreSQL COPY of the same rows into tables of the same shape
and indexes.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from common import create_users, ensure_database, peak_rss_mb, reset_tables, setup_django

TABLES = (
    "medications_dose",
    "notifications_notification",
    "notifications_notificationrecipient",
    "notifications_delivery",
)


def create_schedules(start: datetime.date) -> int:
    from django.db import connection

    from medications.models import Medicine
    from privacy.encryption.keys import encrypt

    medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO medications_supply (patient_id, medicine_id, dosage, instructions, "
            "quantity_on_hand, unit, warning_days, stock_episode, active, created_at, "
            "updated_at) SELECT id, %s, %s, %s, 60, 'tablets', 5, 1, "
            "true, now(), now() FROM accounts_user",
            # Encrypted as the application stores them (privacy.encryption).
            [medicine.pk, encrypt("1 tablet"), encrypt("With breakfast")],
        )
        cursor.execute(
            "INSERT INTO medications_schedule (supply_id, slot, dose_quantity, days_of_week, "
            "start_date, paused, created_at) SELECT id, 'morning', 1, 127, %s, false, now() "
            "FROM medications_supply",
            [start],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM medications_schedule")
        return int(cursor.fetchone()[0])


class QueryCounter:
    """Counts statements through Django's execute wrapper (no query log kept), on every
    connection: the slot's batch writers each have their own (see ``watch``)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def watch(self) -> None:
        """Count on this thread's connection and on every connection opened from now on."""
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection.execute_wrappers.append(self)

        def count_on(sender: Any, connection: Any, **kwargs: Any) -> None:
            connection.execute_wrappers.append(self)

        self._receiver = count_on  # the signal holds receivers weakly
        connection_created.connect(count_on)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        with self._lock:
            self.count += 1
        return execute(sql, params, many, context)


def copy_floor() -> float:
    """The floor: PostgreSQL COPY of exactly the rows the slot wrote (ids included) back
    into the same tables — same indexes, unique and foreign-key constraints (checked
    immediately) — after emptying them, in a transaction that is rolled back. The COPY
    data is read out before the clock starts."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        dumps = {}
        for table in TABLES:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dumps[table] = buffer.getvalue()
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        # Parents first, so every foreign key finds its row.
        for table in (
            "notifications_notification",
            "medications_dose",
            "notifications_notificationrecipient",
            "notifications_delivery",
        ):
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(dumps[table])
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", type=int, default=100_000)
    args = parser.parse_args()
    ensure_database()
    setup_django()
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db import connection

    from medguard_backend.celery import app
    from medications.reminders import send_slot_reminders

    reset_tables()
    create_users(args.schedules)
    tz = ZoneInfo("Africa/Johannesburg")
    today = datetime.datetime.now(tz).date()
    count = create_schedules(today - datetime.timedelta(days=1))
    app.control.purge()
    slot_time = datetime.datetime.combine(today, datetime.time(8, 0), tzinfo=tz)

    counter = QueryCounter()
    counter.watch()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    summary = send_slot_reminders("morning", now=slot_time)
    elapsed = time.perf_counter() - started
    connection.execute_wrappers.remove(counter)
    peak = peak_rss_mb()
    floor = copy_floor()
    with connection.cursor() as cursor:
        rows = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows[table] = cursor.fetchone()[0]
    result = {
        "schedules": count,
        "reminded": summary.reminded,
        "batches": summary.batches,
        "batch_size": settings.NOTIFICATION_WRITE_BATCH_SIZE,
        "writer_threads": settings.BATCH_WRITER_THREADS,
        "slot_seconds": round(elapsed, 3),
        "copy_floor_seconds": round(floor, 3),
        "slot_over_floor": round(elapsed / floor, 2),
        "queries_total": counter.count,
        "queries_per_batch": round(counter.count / max(summary.batches, 1), 2),
        "peak_rss_mb": round(peak, 1),
        "rss_before_mb": round(rss_before, 1),
        "rows": rows,
    }
    print(
        f"morning slot for {count} schedules: {elapsed:.2f}s to commit and publish "
        f"{summary.reminded} reminders ({summary.deliveries_queued} deliveries queued); "
        f"COPY floor {floor:.2f}s ({result['slot_over_floor']}x); "
        f"{result['queries_per_batch']} queries per batch of {result['batch_size']} "
        f"({result['writer_threads']} writer threads); "
        f"peak RSS {result['peak_rss_mb']} MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
