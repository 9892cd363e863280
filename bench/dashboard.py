"""Benchmark of the staff dashboard at scale (issue 13: "renders in < 500 ms with 10 million
deliveries").

    python3 dev.py bench dashboard                      # 1 million, then 10 million deliveries
    .venv/bin/python bench/dashboard.py --deliveries 1000000

For each size: fills PostgreSQL with 100,000 patients, their notifications over 30 days,
a recipient per patient and notification, and four deliveries per recipient (in-app, email,
SMS, push) in a mix of statuses, plus a dose a day per patient; then times the first rollup
(every day, once), a routine refresh (the open days only) and the dashboard page itself as a
signed-in staff member sees it (median and worst of 20 renders through Django's handler).

The fill is built to take minutes at 10 million deliveries on a 2-core machine: the
recipient and delivery rows are streamed with ``COPY`` (generated in this process, ids
given, so no round trip per row), the tables' secondary indexes and unique constraints are
dropped for the load and built once afterwards (one sort each instead of 10 million index
insertions), foreign-key triggers are off for the loading session
(``session_replication_role = replica``: the rows are consistent by construction) and the
tables are vacuumed and analysed before anything is timed, so autovacuum does not run
under the renders. Each phase's seconds are printed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from common import create_users, ensure_database, reset_tables, setup_django

PATIENTS = 100_000
DAYS = 30
CHANNELS = ("in_app", "email", "sms", "push")
FAILURE_REASONS = ("invalid number", "gateway timeout", "mailbox full")
# Rows per COPY write: big enough that the per-call cost vanishes, small enough to stream.
COPY_CHUNK = 50_000
LOADED_TABLES = (
    "notifications_notificationrecipient",
    "notifications_delivery",
    "medications_dose",
)


def phase(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {name}: {now - started:.1f} s", flush=True)
    return now


@contextmanager
def indexes_built_after_load(cursor, tables: tuple[str, ...]) -> Iterator[None]:
    """Drop the tables' secondary indexes and unique constraints (not the primary keys)
    for the load, and build them again after it, exactly as the migrations defined them."""
    saved: list[tuple[str, str, str, str]] = []
    for table in tables:
        cursor.execute(
            "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'x')",
            [table],
        )
        saved += [("constraint", table, name, sql) for name, sql in cursor.fetchall()]
        cursor.execute(
            "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
            "AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
        saved += [("index", table, name, sql) for name, sql in cursor.fetchall()]
    for kind, table, name, _sql in saved:
        if kind == "constraint":
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        else:
            cursor.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for kind, table, name, sql in saved:
            if kind == "constraint":
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {sql}")
            else:
                cursor.execute(sql)
        cursor.execute("RESET maintenance_work_mem")


def copy_rows(cursor, statement: str, lines: Iterator[str]) -> None:
    """Stream ``lines`` (tab-separated, newline-terminated) into ``COPY ... FROM STDIN``."""
    with cursor.copy(statement) as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= COPY_CHUNK:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


def fill(deliveries: int) -> None:
    from django.db import DatabaseError, connection

    from medications.models import Medicine
    from privacy.encryption.keys import encrypt

    recipients = deliveries // len(CHANNELS)
    notifications = -(-recipients // PATIENTS)  # each reaches at most every patient once
    per_notification = recipients // notifications
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        try:
            # No foreign-key trigger per row (needs a superuser, as the bench's postgres is).
            cursor.execute("SET session_replication_role = replica")
        except DatabaseError as error:
            print(f"  foreign keys checked row by row ({type(error).__name__})", flush=True)
        cursor.execute(
            "INSERT INTO notifications_notification (title, content, notification_type, "
            "priority, require_acknowledgment, event, context, idempotency_key, created_at) "
            "SELECT %s, %s, 'system', 'medium', n %% 3 = 0, 'custom', "
            "%s, NULL, now() - make_interval(days => (%s - (n * %s / %s))::int) "
            "FROM generate_series(1, %s) AS n ORDER BY n RETURNING id, created_at",
            # Encrypted as the application stores them (privacy.encryption).
            [
                encrypt("Clinic notice"),
                encrypt("Text"),
                encrypt("{}"),
                DAYS,
                DAYS,
                notifications,
                notifications,
            ],
        )
        sent = sorted(cursor.fetchall())
        cursor.execute("SELECT id FROM accounts_user ORDER BY id LIMIT %s", [per_notification])
        user_ids = [row[0] for row in cursor.fetchall()]
        # Read after (u % 7) * (u % 300) minutes; every fourth patient never reads.
        read_after = {
            u: None if u % 4 == 0 else datetime.timedelta(minutes=(u % 7) * (u % 300))
            for u in user_ids
        }
        started = phase("notifications and users read", started)

        with indexes_built_after_load(cursor, LOADED_TABLES):
            started = phase("indexes dropped", started)

            def recipient_lines() -> Iterator[str]:
                rid = 0
                for notification_id, created in sent:
                    stamp = created.isoformat()
                    read_stamps: dict[datetime.timedelta, str] = {}
                    for u in user_ids:
                        rid += 1
                        after = read_after[u]
                        if after is None:
                            read = "\\N"
                        else:
                            read = read_stamps.get(after) or read_stamps.setdefault(
                                after, (created + after).isoformat()
                            )
                        yield f"{rid}\t{notification_id}\t{u}\tunread\tt\t{stamp}\t{read}\n"

            copy_rows(
                cursor,
                "COPY notifications_notificationrecipient (id, notification_id, user_id, "
                "status, in_app, created_at, read_at) FROM STDIN",
                recipient_lines(),
            )
            started = phase(f"{notifications * per_notification:,} recipients copied", started)

            def delivery_lines() -> Iterator[str]:
                rid = 0
                for _notification_id, created in sent:
                    stamp = created.isoformat()
                    for _u in user_ids:
                        rid += 1
                        if rid % 50 == 0:
                            status, error = "failed", FAILURE_REASONS[rid % 3]
                        elif rid % 13 == 0:
                            status, error = "skipped", ""
                        else:
                            status, error = "sent", ""
                        common = f"\t{status}\t{stamp}\tf\t1\t\t{error}\t{stamp}\t{stamp}\n"
                        for channel in CHANNELS:
                            yield f"{rid}\t{channel}{common}"

            copy_rows(
                cursor,
                "COPY notifications_delivery (recipient_id, channel, status, not_before, "
                "digest, attempts, provider_message_id, last_error, created_at, updated_at) "
                "FROM STDIN",
                delivery_lines(),
            )
            started = phase("deliveries copied", started)

            medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
            cursor.execute(
                "INSERT INTO medications_supply (patient_id, medicine_id, dosage, instructions, "
                "quantity_on_hand, unit, warning_days, stock_episode, active, created_at, "
                "updated_at, expiry_date) SELECT id, %s, %s, '', 60, 'tablets', 5, 1, "
                "true, now(), now(), current_date + (id %% 400)::int FROM accounts_user",
                # Encrypted as the application stores it (privacy.encryption).
                [medicine.pk, encrypt("1 tablet")],
            )
            cursor.execute(
                "INSERT INTO medications_schedule (supply_id, slot, dose_quantity, "
                "days_of_week, start_date, paused, created_at) SELECT id, 'morning', 1, 127, "
                "current_date - 40, false, now() FROM medications_supply"
            )
            cursor.execute(
                "INSERT INTO medications_dose (schedule_id, due_at, status, snooze_count) "
                "SELECT s.id, date_trunc('day', now()) - make_interval(days => d::int, "
                "hours => -6), "
                "(ARRAY['taken', 'taken', 'taken', 'skipped', 'missed'])[1 + (s.id + d) %% 5], "
                "0 FROM medications_schedule s CROSS JOIN generate_series(0, %s) AS d "
                "ORDER BY d DESC, s.id",
                [DAYS - 1],
            )
            started = phase("supplies, schedules and doses inserted", started)
        started = phase("indexes and unique constraints built", started)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('notifications_notificationrecipient', 'id'), "
            "(SELECT max(id) FROM notifications_notificationrecipient))"
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("RESET synchronous_commit")
        for table in (*LOADED_TABLES, "notifications_notification", "medications_schedule"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("ANALYZE")
        phase("vacuumed and analysed", started)
        cursor.execute("SELECT count(*) FROM notifications_delivery")
        print(f"  filled: {cursor.fetchone()[0]:,} deliveries", flush=True)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(deliveries: int) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from clinic.models import DeliveryDay, DoseDay, FailureDay, ResponseDay, RollupMark
    from clinic.rollups import refresh_rollups

    reset_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE medications_dose, medications_schedule, medications_supply CASCADE"
        )
    for model in (DeliveryDay, DoseDay, FailureDay, ResponseDay, RollupMark):
        model.objects.all().delete()
    create_users(PATIENTS)
    fill_seconds = timed(lambda: fill(deliveries))
    first_refresh = timed(refresh_rollups)
    routine_refresh = timed(refresh_rollups)

    staff = get_user_model().objects.create_user("bench-staff", user_type="staff")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    assert client.get("/staff/").status_code == 200  # warm: templates, translations
    renders = []
    for _ in range(20):
        started = time.perf_counter()
        response = client.get("/staff/", {"start": "", "end": ""})
        renders.append(time.perf_counter() - started)
        assert response.status_code == 200
    total = response.context["board"].total_deliveries
    result = {
        "deliveries": deliveries,
        "fill_s": round(fill_seconds, 1),
        "first_rollup_s": round(first_refresh, 2),
        "routine_rollup_s": round(routine_refresh, 2),
        "render_median_ms": round(statistics.median(renders) * 1000, 1),
        "render_max_ms": round(max(renders) * 1000, 1),
        "deliveries_shown_last_14_days": total,
        "html_bytes": len(response.content),
    }
    print(
        f"dashboard at {deliveries:,} deliveries: render median {result['render_median_ms']} ms "
        f"(worst {result['render_max_ms']} ms, target < 500 ms); first rollup "
        f"{result['first_rollup_s']} s, routine refresh {result['routine_rollup_s']} s",
        flush=True,
    )
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, action="append")
    args = parser.parse_args()
    ensure_database()
    setup_django()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # so the page's context can be read back, as in the tests
    for size in args.deliveries or [1_000_000, 10_000_000]:
        run(size)


if __name__ == "__main__":
    main()
