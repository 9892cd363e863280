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
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT, create_users, ensure_database, peak_rss_mb, reset_tables, setup_django


def copy_floor(notification_id: int) -> float:
    """The floor: PostgreSQL COPY of the same rows into the same tables — same columns,
    indexes, unique and foreign-key constraints (checked immediately), same size — inside a
    transaction that is rolled back. The COPY data is prepared before the clock starts."""
    from django.db import connection, transaction

    from notifications.models import Notification

    with transaction.atomic(), connection.cursor() as cursor:
        twin = Notification.objects.create(title="floor", content="", notification_type="general")
        recipients = _copy_out(
            cursor,
            f"COPY (SELECT {twin.pk}, user_id, status, in_app, created_at "
            f"FROM notifications_notificationrecipient WHERE notification_id = "
            f"{int(notification_id)}) TO STDOUT",
        )
        deliveries = _copy_out(
            cursor,
            "COPY (SELECT d.recipient_id, d.channel, d.status, d.not_before, d.digest, "
            "d.attempts, d.enqueued_at, d.provider_message_id, d.last_error, d.created_at, "
            "d.updated_at FROM notifications_delivery d JOIN notifications_notificationrecipient"
            f" r ON r.id = d.recipient_id WHERE r.notification_id = {int(notification_id)}) "
            "TO STDOUT",
        )
        # The same delivery rows go back in, so the originals make way (not timed).
        cursor.execute(
            "DELETE FROM notifications_delivery d USING notifications_notificationrecipient r "
            "WHERE r.id = d.recipient_id AND r.notification_id = %s",
            [notification_id],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        with cursor.copy(
            "COPY notifications_notificationrecipient (notification_id, user_id, status, "
            "in_app, created_at) FROM STDIN"
        ) as copy:
            copy.write(recipients)
        with cursor.copy(
            "COPY notifications_delivery (recipient_id, channel, status, not_before, digest, "
            "attempts, enqueued_at, provider_message_id, last_error, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            copy.write(deliveries)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _copy_out(cursor: Any, statement: str) -> bytes:
    buffer = io.BytesIO()
    with cursor.copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    return buffer.getvalue()


def run_workers_on_in_app(notification_id: int) -> float:
    """Two worker processes complete the in-app deliveries (email ones are cancelled first:
    this measures the pipeline, not the SMTP server)."""
    from django.db import connection

    from medguard_backend.celery import app
    from notifications.delivery import outbox
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
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    result = NotificationService.send_notification_to_users(users, notification)
    fanout = time.perf_counter() - started
    peak_mb = peak_rss_mb()
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
        "rss_before_send_mb": round(rss_before, 1),
    }


def _sink(port: int, tls_dir: Path | None) -> subprocess.Popen[str]:
    command = [sys.executable, str(Path(__file__).with_name("smtp_sink.py")), "--port", str(port)]
    if tls_dir:
        command += ["--cert", str(tls_dir / "cert.pem"), "--key", str(tls_dir / "key.pem")]
    sink = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None
    sink.stdout.readline()  # "ready"
    return sink


def _self_signed_certificate(folder: Path) -> None:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


def measure_email(messages: int, use_tls: bool) -> dict[str, object]:
    import socket
    import tempfile

    tls_dir = Path(tempfile.mkdtemp()) if use_tls else None
    if tls_dir:
        _self_signed_certificate(tls_dir)
        # Trust the sink's certificate the way a deployment trusts its relay's.
        os.environ["SSL_CERT_FILE"] = str(tls_dir / "cert.pem")
    setup_django()
    from django.conf import settings

    from notifications.channels import OutgoingMessage
    from notifications.channels.email import EmailTransport

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _sink(port, tls_dir)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = use_tls, False
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
        sink.terminate()
        sink.wait()
    return {
        "messages": messages,
        "starttls": use_tls,
        "reused_connection_per_second": round(messages / reused, 1),
        "connection_per_message_per_second": round(messages / per_message, 1),
        "speed_up": round(per_message / reused, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help="measure one size in this process (internal)")
    parser.add_argument("--email", type=int, help="measure email throughput (internal)")
    parser.add_argument("--tls", action="store_true", help="with --email: STARTTLS")
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    if args.size:
        print(json.dumps(measure_size(args.size)))
        return
    if args.email:
        print(json.dumps(measure_email(args.email, args.tls)))
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
    emails = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--email", "1000", *flags],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for flags in ([], ["--tls"])
    ]
    print("notification fan-out on PostgreSQL")
    for row in results:
        print(
            f"  {row['recipients']:>7} recipients: send {row['fanout_seconds']}s, "
            f"COPY floor {row['copy_floor_seconds']}s ({row['fanout_over_floor']}x), "
            f"two workers complete in-app {row['in_app_two_workers_seconds']}s, "
            f"peak RSS {row['peak_rss_mb']} MB ({row['deliveries_written']} deliveries)"
        )
    for email in emails:
        print(
            f"email to a local SMTP sink in another process "
            f"({'STARTTLS' if email['starttls'] else 'plain'}, {email['messages']} messages): "
            f"{email['reused_connection_per_second']}/s reusing one connection, "
            f"{email['connection_per_message_per_second']}/s with one connection per message "
            f"({email['speed_up']}x)"
        )
    print(json.dumps({"fanout": results, "email": emails}))


if __name__ == "__main__":
    main()
