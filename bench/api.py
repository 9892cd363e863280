"""Benchmark of the inbox API on PostgreSQL (issue: REST API).

    python3 dev.py bench api               # 1,000,000 recipients, gunicorn -w 2, wrk
    python3 bench/api.py --profile         # where one request's time goes (cProfile)

One user with 10,000 in-app notifications (half unread) in a recipients table of 1,000,000
rows (1,000 users), served by gunicorn with two sync workers and production settings
(DEBUG off, Redis cache, persistent database connections): `wrk` on loopback asks for
`GET /api/notifications/?status=unread` with the user's token, and reports requests per
second and the latency percentiles (p95 from a Lua `done()` hook). The number of queries per
request is counted in-process (Django test client, same settings module, same database).

Targets: p95 under 25 ms, at least 250 requests per second, at most 5 queries per request.

wrk keeps a fixed number of connections busy (a closed loop), so by Little's law the mean
latency is connections / throughput: at 8 connections, 250 requests per second means 32 ms
on average, and both targets can only be met together with at most 6 connections. The
bench therefore measures at 2 (one per worker: service time, no queueing), 4 and 8
connections, and reports each. It also reports the CPU time per request of each process
(gunicorn workers, PostgreSQL backends of the bench database, Redis, wrk): on a small
machine they share the same cores.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import json
import os
import pstats
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import BENCH_DB, ROOT, create_users, ensure_database, reset_tables

USERS = 1_000
RECIPIENTS = 1_000_000
BENCH_USER_NOTIFICATIONS = 10_000
PATH = "/api/notifications/?status=unread"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SERVER_SETTINGS = "medguard_backend.settings.prod"
TARGETS = {"p95_ms": 25.0, "requests_per_second": 250.0, "queries_per_request": 5}

# wrk's own summary has p50/75/90/99 only; done() prints what the bench parses.
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Token " .. os.getenv("BENCH_TOKEN")
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect
      + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


# Fixed, not random: a run with --keep-data reads the texts an earlier run encrypted. The
# bench database holds made-up data only.
FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"bench field key").digest()
).decode()
BLIND_INDEX_KEY = hashlib.sha256(b"bench blind index key").hexdigest()


def server_environment() -> dict[str, str]:
    """Production settings, minus TLS (loopback has none) and with a per-user budget far
    above the load: a 429 would measure the throttle, not the list. (The throttle still
    counts every request: one cache increment, as in production.)"""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS,
        "SECRET_KEY": secrets.token_urlsafe(64),
        # Production refuses to start without them; the set-up (which writes the texts
        # encrypted) and the server that reads them share them.
        "FIELD_ENCRYPTION_KEYS": FIELD_ENCRYPTION_KEY,
        "BLIND_INDEX_KEYS": BLIND_INDEX_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": REDIS_URL,
        "API_USER_RATE": "10000000/min",
    }


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/medguard_bench")
    os.environ.update(server_environment())
    import django

    django.setup()


def create_inbox() -> str:
    """1,000 users; 10,000 notifications, every one to the bench user (half unread, two in
    every four), and 990,000 more recipients spread over the other 999 users (each
    (notification, user) pair once). Half the notifications are medication reminders,
    rendered from templates in the reader's language; half free text. Returns the bench
    user's API token."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from knox.models import AuthToken

    from privacy.encryption.keys import encrypt

    reset_tables()
    create_users(USERS)
    others = RECIPIENTS - BENCH_USER_NOTIFICATIONS
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts_user WHERE username = 'bench0'")
        bench_user = int(cursor.fetchone()[0])
        cursor.execute(
            "INSERT INTO notifications_notification (title, content, notification_type, "
            "priority, require_acknowledgment, event, context, created_at) "
            "SELECT %s, %s, "
            "CASE WHEN mod(g, 2) = 0 THEN 'medication' ELSE 'system' END, 'medium', false, "
            "CASE WHEN mod(g, 2) = 0 THEN 'medication_reminder' ELSE 'custom' END, "
            "CASE WHEN mod(g, 2) = 0 THEN %s ELSE %s END, "
            "now() - g * interval '1 minute' FROM generate_series(1, %s) g",
            # Encrypted as the application stores them (privacy.encryption): one token per
            # text, shared by the rows, costs each row's read the same as its own would.
            [
                encrypt("Notice"),
                encrypt("Details of the notice"),
                encrypt(
                    json.dumps(
                        {
                            "medication_name": "Metformin",
                            "dosage": "500 mg",
                            "instructions": "With food",
                        }
                    )
                ),
                encrypt("{}"),
                BENCH_USER_NOTIFICATIONS,
            ],
        )
        cursor.execute(
            "INSERT INTO notifications_notificationrecipient (notification_id, user_id, "
            "status, in_app, created_at, read_at) "
            "SELECT id, %s, CASE WHEN mod(id, 4) < 2 THEN 'unread' ELSE 'read' END, true, "
            "created_at, CASE WHEN mod(id, 4) < 2 THEN NULL ELSE created_at END "
            "FROM notifications_notification",
            [bench_user],
        )
        # Pair k = (notification k mod 10,000, other user k mod 999): lcm(10,000, 999) is
        # far above 990,000, so no pair repeats.
        cursor.execute(
            "WITH n AS (SELECT id, created_at, row_number() OVER (ORDER BY id) - 1 AS k "
            "FROM notifications_notification), "
            "u AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM accounts_user "
            "WHERE id <> %s) "
            "INSERT INTO notifications_notificationrecipient (notification_id, user_id, "
            "status, in_app, created_at) "
            "SELECT n.id, u.id, CASE WHEN mod(g, 3) = 0 THEN 'read' ELSE 'unread' END, true, "
            "n.created_at FROM generate_series(0, %s) g "
            "JOIN n ON n.k = mod(g, %s) JOIN u ON u.k = mod(g, %s)",
            [bench_user, others - 1, BENCH_USER_NOTIFICATIONS, USERS - 1],
        )
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE user_id = %s), "
            "count(*) FILTER (WHERE user_id = %s AND status = 'unread') "
            "FROM notifications_notificationrecipient",
            [bench_user, bench_user],
        )
        total, mine, unread = cursor.fetchone()
    assert (total, mine) == (RECIPIENTS, BENCH_USER_NOTIFICATIONS), (total, mine)
    assert unread == BENCH_USER_NOTIFICATIONS // 2, unread
    return AuthToken.objects.create(user=get_user_model().objects.get(pk=bench_user))[1]


def existing_inbox() -> str | None:
    """The bench user's token if a previous run's inbox is complete, for A/B runs."""
    from django.db import DatabaseError
    from rest_framework.authtoken.models import Token

    from notifications.models import NotificationRecipient

    try:
        token = Token.objects.filter(user__username="bench0").first()
        if token is None or NotificationRecipient.objects.count() != RECIPIENTS:
            return None
    except DatabaseError:  # a new database, not migrated yet
        return None
    return str(token.key)


def queries_per_request(token: str) -> int:
    """One request in-process, its queries counted (the first one warms Django up)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(PATH).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PATH)
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 20
    return len(queries)


# Where a request's time goes: (label, file suffix, function) of the stages, measured as
# cumulative CPU time in cProfile; the rest is Django's handler and middleware, DRF's
# dispatch and content negotiation.
STAGES = (
    ("token authentication (1 query)", "api/authentication.py", "authenticate_credentials"),
    ("throttles (counted in batches)", "rest_framework/views.py", "check_throttles"),
    ("page query (SQL + PostgreSQL)", "notifications/inbox/page.py", "read_page"),
    ("rendering in the reader's language", "notifications/api/inbox_items.py", "render_items"),
    ("items written out", "notifications/api/serializers.py", "inbox_items_data"),
    ("next/previous links", "rest_framework/pagination.py", "get_paginated_response"),
    ("JSON", "rest_framework/renderers.py", "render"),
)


def wsgi_request(token: str) -> Callable[[], None]:
    """One request through the WSGI application as gunicorn calls it (with the request
    signals that close or health-check connections, which Django's test client skips)."""
    import io

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    path, _, query = PATH.partition("?")

    def start_response(status: str, headers: object, *exc_info: object) -> Any:
        assert status.startswith("200"), status

    def request() -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT": "*/*",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        response = application(environ, start_response)
        b"".join(response)
        response.close()

    return request


def profile(token: str, requests: int = 2000) -> None:
    """Where one request's CPU time goes, in-process (no network, no gunicorn): the CPU
    time per request without the profiler, then each stage's share under cProfile (which
    inflates call-heavy code, so shares are indicative), then the top functions."""
    request = wsgi_request(token)
    for _ in range(100):
        request()
    started = time.process_time()
    for _ in range(requests):
        request()
    plain_ms = (time.process_time() - started) / requests * 1000
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(requests):
        request()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.stats.items())
    print(f"{plain_ms:.2f} ms CPU per request in-process (no profiler); shares under cProfile:")
    accounted = 0.0
    for label, suffix, function in STAGES:
        cumulative = sum(
            ct
            for (filename, _, name), (_, _, _, ct, _) in stats.stats.items()
            if name == function and filename.endswith(suffix)
        )
        accounted += cumulative
        print(f"  {cumulative / total:6.1%}  {label}")
    print(f"  {1 - accounted / total:6.1%}  the rest: Django's handler and middleware, DRF")
    stats.sort_stats("tottime").print_stats(15)


def process_cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the processes that serve the load, from /proc: the gunicorn
    master and workers, the PostgreSQL backends of the bench database, and Redis."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(("gunicorn", "postgres", "redis"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
        if int(entry.name) == server_pid or parent == server_pid:
            totals["gunicorn"] += cpu
        elif command.startswith("postgres:") and f" {BENCH_DB} " in command:
            totals["postgres"] += cpu
        elif command.startswith("redis-server"):
            totals["redis"] += cpu
    return totals


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "medguard_backend.wsgi:application",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=server_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()}")


def run_wrk(
    port: int, token: str, script: Path, seconds: int, connections: int, server_pid: int
) -> dict:
    before = process_cpu_seconds(server_pid)
    # wrk is reaped by subprocess.run, so its CPU time is what RUSAGE_CHILDREN gains.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{PATH}",
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_TOKEN": token},
    ).stdout
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = process_cpu_seconds(server_pid)
    cpu = {name: after[name] - before[name] for name in after}
    cpu["wrk"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    requests, duration_us, bad_status, socket_errors, p50, p90, p95, p99, worst = map(
        int, line.split()[1:]
    )
    return {
        "connections": connections,
        "seconds": seconds,
        "requests": requests,
        "requests_per_second": round(requests / (duration_us / 1e6), 1),
        "non_2xx": bad_status,
        "socket_errors": socket_errors,
        "p50_ms": round(p50 / 1000, 2),
        "p90_ms": round(p90 / 1000, 2),
        "p95_ms": round(p95 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "max_ms": round(worst / 1000, 2),
        "cpu_ms_per_request": {
            name: round(seconds_used / max(requests, 1) * 1000, 2)
            for name, seconds_used in cpu.items()
        },
    }


def meets_targets(run: dict, queries: int) -> bool:
    return (
        run["p95_ms"] < TARGETS["p95_ms"]
        and run["requests_per_second"] >= TARGETS["requests_per_second"]
        and queries <= TARGETS["queries_per_request"]
        and run["non_2xx"] == 0
        and run["socket_errors"] == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", default="2,4,8", help="wrk runs, comma-separated")
    parser.add_argument("--profile", action="store_true", help="cProfile in-process instead")
    parser.add_argument(
        "--keep-data", action="store_true", help="reuse the inbox a previous run built"
    )
    args = parser.parse_args()
    if not shutil.which("wrk") and not args.profile:
        raise SystemExit("wrk is needed: apt-get install wrk")
    ensure_database()
    setup_django()
    from django.core.cache import cache

    started = time.perf_counter()
    token = (args.keep_data and existing_inbox()) or create_inbox()
    build_seconds = time.perf_counter() - started
    cache.clear()
    queries = queries_per_request(token)
    if args.profile:
        profile(token)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    script = workdir / "inbox.lua"
    script.write_text(WRK_SCRIPT)
    port = free_port()
    server = start_gunicorn(port, workdir / "gunicorn.log")
    runs = []
    try:
        # Warm-up: both workers connect to PostgreSQL and Redis and fill their caches.
        run_wrk(port, token, script, 3, 4, server.pid)
        for connections in (int(c) for c in args.connections.split(",")):
            runs.append(run_wrk(port, token, script, args.seconds, connections, server.pid))
    finally:
        server.terminate()
        server.wait()
    result = {
        "recipients": RECIPIENTS,
        "bench_user_notifications": BENCH_USER_NOTIFICATIONS,
        "build_seconds": round(build_seconds, 1),
        "cpus": os.cpu_count(),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
        "queries_per_request": queries,
        "runs": runs,
        "targets": TARGETS,
        "meets_targets": [meets_targets(run, queries) for run in runs],
    }
    print(
        f"GET {PATH}: user with {BENCH_USER_NOTIFICATIONS:,} of {RECIPIENTS:,} recipients, "
        f"gunicorn -w 2, {os.cpu_count()} CPUs, {queries} queries/request"
    )
    for run in runs:
        cpu = ", ".join(f"{name} {ms}" for name, ms in run["cpu_ms_per_request"].items())
        print(
            f"  wrk -c{run['connections']} {run['seconds']}s: "
            f"{run['requests_per_second']} req/s, p50 {run['p50_ms']} ms, "
            f"p95 {run['p95_ms']} ms, p99 {run['p99_ms']} ms, {run['non_2xx']} non-2xx; "
            f"CPU ms/request: {cpu} "
            f"({'meets' if meets_targets(run, queries) else 'misses'} p95 < 25 ms, "
            f">= 250 req/s, <= 5 queries)"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
