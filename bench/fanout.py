"""Benchmark of the notification engine on PostgreSQL (issue: notification engine).

    python3 dev.py bench fanout            # 10,000 and 100,000 recipients

For each size, in a fresh process (so peak memory belongs to that size alone):
  * the time for NotificationService.send_notification_to_users to commit every row;
  * the floor: PostgreSQL COPY of the same rows into tables of the same shape and indexes;
  * the time for two worker processes to complete all in-app deliveries;
  * peak memory (max RSS) of the sending process.
Then email throughput to a local SMTP sink: one connection reused for a batch against one
connection per message.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
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
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            c.execute(f"CREATE DATABASE {BENCH_DB}")


def reset_tables() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_deliveryattempt, notifications_delivery, "
            "notifications_notificationrecipient, notifications_notification, "
            "notifications_usernotificationpreferences, notifications_pushdevice, "
            "accounts_user CASCADE"
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


def copy_floor(notification_id: int) -> float:
    """COPY the rows the send wrote into empty tables of the same shape and indexes."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, in_app, created_at FROM notifications_notificationrecipient "
            "WHERE notification_id = %s",
            [notification_id],
        )
        recipients = cursor.fetchall()
        cursor.execute(
            "SELECT r.user_id, d.channel, d.not_before, d.created_at FROM notifications_delivery d "
            "JOIN notifications_notificationrecipient r ON r.id = d.recipient_id "
            "WHERE r.notification_id = %s",
            [notification_id],
        )
        deliveries = cursor.fetchall()
        for table in ("notificationrecipient", "delivery"):
            cursor.execute(f"DROP TABLE IF EXISTS floor_{table}")
            cursor.execute(f"CREATE TABLE floor_{table} (LIKE notifications_{table} INCLUDING ALL)")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(
            "COPY floor_notificationrecipient (notification_id, user_id, status, in_app, "
            "created_at) FROM STDIN"
        ) as copy:
            for user_id, in_app, created_at in recipients:
                copy.write_row((notification_id, user_id, "unread", in_app, created_at))
        cursor.execute(
            "SELECT user_id, id FROM floor_notificationrecipient WHERE notification_id = %s",
            [notification_id],
        )
        recipient_ids = dict(cursor.fetchall())
        with cursor.copy(
            "COPY floor_delivery (recipient_id, channel, status, not_before, digest, attempts, "
            "enqueued_at, provider_message_id, last_error, created_at, updated_at) FROM STDIN"
        ) as copy:
            for user_id, channel, not_before, created_at in deliveries:
                copy.write_row(
                    (
                        recipient_ids[user_id],
                        channel,
                        "pending",
                        not_before,
                        False,
                        0,
                        created_at,
                        "",
                        "",
                        created_at,
                        created_at,
                    )
                )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE floor_delivery")
        cursor.execute("DROP TABLE floor_notificationrecipient")
    return elapsed


def run_workers_on_in_app(notification_id: int) -> float:
    """Two worker processes complete the in-app deliveries (email ones are cancelled first:
    this measures the pipeline, not the SMTP server)."""
    from django.db import connection

    from medguard_backend.celery import app
    from notifications import outbox
    from notifications.models import Delivery

    app.control.purge()
    Delivery.objects.filter(recipient__notification_id=notification_id).exclude(
        channel="in_app"
    ).update(status="cancelled")
    Delivery.objects.filter(recipient__notification_id=notification_id).update(enqueued_at=None)
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "medguard_backend",
                "worker",
                "--loglevel=warning",
                "--concurrency=1",
                f"--hostname=bench{i}@localhost",
                "-Q",
                "notifications",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < 2 and time.monotonic() < deadline:
            pass
        started = time.perf_counter()
        # One sweep publishes at most SWEEP_LIMIT deliveries (beat sweeps every minute);
        # here we sweep until everything is published.
        while outbox.sweep().enqueued:
            pass
        while True:
            # The partial index on pending deliveries makes this cheap while workers run.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT EXISTS (SELECT 1 FROM notifications_delivery "
                    "WHERE status IN ('pending', 'sending') AND channel = 'in_app')"
                )
                if not cursor.fetchone()[0]:
                    break
            time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait()


def measure_size(recipients: int) -> dict[str, object]:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from notifications.services import NotificationService

    reset_tables()
    create_users(recipients)
    notification = NotificationService.create_notification("Bench", "Fan-out", "general", "low")
    users = get_user_model().objects.filter(username__startswith="bench")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = NotificationService.send_notification_to_users(users, notification)
    fanout = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_delivery")
    floor = copy_floor(notification.pk)
    workers = run_workers_on_in_app(notification.pk)
    return {
        "recipients": recipients,
        "deliveries_written": result.queued + result.deferred,
        "fanout_seconds": round(fanout, 3),
        "copy_floor_seconds": round(floor, 3),
        "fanout_over_floor": round(fanout / floor, 2),
        "in_app_two_workers_seconds": round(workers, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_send_mb": round(rss_before / 1024, 1),
    }


def measure_email(messages: int) -> dict[str, object]:
    setup_django()
    from django.conf import settings

    from medguard_backend.testing.smtp import SMTPTestServer
    from notifications.channels import OutgoingMessage
    from notifications.channels.email import EmailTransport

    server = SMTPTestServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    batch = [
        OutgoingMessage(
            delivery_id=i,
            channel="email",
            to=f"patient{i}@example.org",
            subject="Reminder",
            text="Time for your medication.",
            html="<p>Time for your medication.</p>",
            idempotency_key=f"bench-{i}",
        )
        for i in range(messages)
    ]
    try:
        started = time.perf_counter()
        with EmailTransport() as transport:
            for message in batch:
                transport.send(message)
        reused = time.perf_counter() - started
        started = time.perf_counter()
        for message in batch:
            with EmailTransport() as transport:
                transport.send(message)
        per_message = time.perf_counter() - started
    finally:
        server.stop()
    return {
        "messages": messages,
        "reused_connection_per_second": round(messages / reused, 1),
        "connection_per_message_per_second": round(messages / per_message, 1),
        "speed_up": round(per_message / reused, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help="measure one size in this process (internal)")
    parser.add_argument("--email", type=int, help="measure email throughput (internal)")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    if args.size:
        print(json.dumps(measure_size(args.size)))
        return
    if args.email:
        print(json.dumps(measure_email(args.email)))
        return
    ensure_database()
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        output = subprocess.run(
            [sys.executable, __file__, "--size", str(size)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    email = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--email", "2000"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print("notification fan-out on PostgreSQL")
    for row in results:
        print(
            f"  {row['recipients']:>7} recipients: send {row['fanout_seconds']}s, "
            f"COPY floor {row['copy_floor_seconds']}s ({row['fanout_over_floor']}x), "
            f"two workers complete in-app {row['in_app_two_workers_seconds']}s, "
            f"peak RSS {row['peak_rss_mb']} MB ({row['deliveries_written']} deliveries)"
        )
    print(
        f"email to a local SMTP sink ({email['messages']} messages): "
        f"{email['reused_connection_per_second']}/s reusing one connection, "
        f"{email['connection_per_message_per_second']}/s with one connection per message "
        f"({email['speed_up']}x)"
    )
    print(json.dumps({"fanout": results, "email": email}))


if __name__ == "__main__":
    main()
