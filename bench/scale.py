"""Scale-out benchmark: 100,000 patients' reminders due at one minute, sent by 1, 2 and 4
worker processes, each with a host name of its own (a UTS namespace when run as root) and
its own node name, against one PostgreSQL and one broker.

    CELERY_BROKER_URL=redis://127.0.0.1:6386/2 python3 dev.py bench scale
    python3 dev.py bench scale --patients 20000 --workers 1,2

Every patient takes one dose at the same local minute T (the next whole minute, Africa/
Johannesburg), with in-app and push on and email off; push goes over HTTP to a loopback
stand-in for Expo's API (bench/push_sink.py, its own process) through the production
transport (``ProviderPushTransport``: up to 100 messages a request). At T the bench
publishes what beat publishes every minute,
`medications.tasks.dispatch_due_reminders`, which writes the doses, reminders and
deliveries in batches (the same remind_batch path as the 08:00 slot task) and publishes the
sends; the workers do all of it. The slot task itself reads the wall clock (doses due at
08:00 where the patient lives), so a bench that does not wait for a time zone's 08:00 runs
the same work from the dispatcher.

Measured per worker count: seconds from T to the last delivery sent (from the database),
reminder lateness p50/p99 from the metrics (histogram buckets, as Prometheus would compute)
and exactly from the rows, each worker's share of the deliveries it claimed (its log), and
CPU seconds of the workers, of PostgreSQL (all its processes on this machine) and of the
broker, beside the machine's busy share — to say what ran out first.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from common import ROOT, create_users, ensure_database, reset_tables, setup_django

TZ = ZoneInfo("Africa/Johannesburg")
QUEUES = "celery,notifications,medications"
CLK_TCK = os.sysconf("SC_CLK_TCK")
METRICS_DIR = ROOT / "var" / "bench-scale-metrics"
LOG_DIR = ROOT / "var" / "bench-scale-logs"


def create_patients(count: int) -> None:
    from django.db import connection

    from medguard_backend.row_inserts import RowInsert
    from medications.models import Medicine
    from notifications.models import UserNotificationPreferences
    from privacy.encryption.keys import encrypt

    create_users(count)
    medicine = Medicine.objects.create(name="Metformin", strength="500 mg")
    yesterday = datetime.datetime.now(TZ).date() - datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        # The column list from the model (every other column its default), so a field added
        # later (the consents) cannot break the bench.
        preferences = RowInsert(
            UserNotificationPreferences,
            ("user",),
            email_notifications_enabled=False,
            sms_notifications_enabled=False,
            push_notifications_enabled=True,
        )
        cursor.execute(
            f"INSERT INTO {preferences.target} SELECT {preferences.select(['id'])}"
            " FROM accounts_user",
            preferences.params,
        )
        cursor.execute(
            "INSERT INTO notifications_pushdevice (kind, token, keys, platform, device_model,"
            " os_version, active, created_at, user_id) SELECT 'expo',"
            " 'ExponentPushToken[bench' || id || ']', '{}', 'android', '', '', true, now(), id"
            " FROM accounts_user"
        )
        cursor.execute(
            "INSERT INTO medications_supply (patient_id, medicine_id, dosage, instructions, "
            "quantity_on_hand, unit, warning_days, stock_episode, active, created_at, "
            "updated_at) SELECT id, %s, %s, %s, 60, 'tablets', 5, 1, "
            "true, now(), now() FROM accounts_user",
            # Encrypted as the application stores them (privacy.encryption).
            [medicine.pk, encrypt("1 tablet"), encrypt("With breakfast")],
        )
        cursor.execute(
            "INSERT INTO medications_schedule (supply_id, slot, custom_time, dose_quantity, "
            "days_of_week, start_date, paused, created_at) SELECT id, 'custom', '00:00', 1, "
            "127, %s, false, now() FROM medications_supply",
            [yesterday],
        )
        cursor.execute("ANALYZE")


def clear_run() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE notifications_deliveryattempt, notifications_delivery, "
            "notifications_notificationrecipient, notifications_notification, "
            "medications_dose CASCADE"
        )
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    METRICS_DIR.mkdir(parents=True)


def database_activity() -> dict[str, int]:
    """The bench database's transactions committed (each a WAL flush) and rows written so
    far, and the WAL position of the whole cluster (other databases' writes included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted,"
            " pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        commits, inserted, updated, deleted, wal = cursor.fetchone()
    return {
        "commits": int(commits),
        "rows_inserted": int(inserted),
        "rows_updated": int(updated),
        "rows_deleted": int(deleted),
        "wal_bytes": int(wal),
    }


def process_tree(root: int) -> list[int]:
    """The worker and its pool children (they share its process group)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == root:  # pgrp
                pids.append(int(entry.name))
    return pids


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far, with that of its children
    that have exited (PostgreSQL backends of connections closed during the run: the batch
    writers' threads open and close their own)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime
        used[pid] = sum(int(v) for v in fields[11:15]) / CLK_TCK
    return used


def cpu_used_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots of the same processes: a process born in between
    counts from zero; one that exited meanwhile is in its parent's children's time."""
    return sum(after.values()) - sum(before.values())


def pids_matching(name: str, in_command: str = "") -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != name:
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if in_command in command:
                found.append(int(entry.name))
    return found


def measured_processes(workers: list[tuple[str, subprocess.Popen]]) -> dict[str, list[int]]:
    from urllib.parse import urlsplit

    from django.conf import settings

    broker = urlsplit(settings.CELERY_BROKER_URL)
    return {
        "workers": [pid for _, p in workers for pid in process_tree(p.pid)],
        # Every PostgreSQL process on the machine: other databases' work included.
        "postgres": pids_matching("postgres"),
        "broker": pids_matching("redis-server", f":{broker.port}")
        if broker.scheme.startswith("redis")
        else pids_matching("beam.smp"),
    }


class BackendWatch:
    """CPU of the PostgreSQL backends serving the bench database's other clients (the
    workers and their writer threads), sampled each time ``sample`` is called: the machine's
    PostgreSQL is shared with other work, so its total says little. The bench's own
    connection (polling the count of sent rows) is left out. A backend that lives less
    than a sampling interval is missed."""

    def __init__(self, own_backend: int) -> None:
        from django.conf import settings

        self.database = settings.DATABASES["default"]["NAME"]
        self.own_backend = own_backend
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sample(at_start=True)

    def sample(self, at_start: bool = False) -> None:
        for pid in pids_matching("postgres", f" {self.database} "):
            if pid == self.own_backend:
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = (int(fields[11]) + int(fields[12])) / CLK_TCK
            # Born during the run: counted from zero.
            self.first.setdefault(pid, used if at_start else 0.0)
            self.last[pid] = used

    def cpu_seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def machine_busy() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def start_workers(count: int, environ: dict[str, str]) -> list[tuple[str, subprocess.Popen]]:
    from medguard_backend.celery import app

    workers = []
    as_root = os.geteuid() == 0 and shutil.which("unshare")
    for k in range(1, count + 1):
        host = f"bench-host-{k}"
        node = f"scale{k}@{host}"
        celery = (
            f"exec {sys.executable} -m celery -A medguard_backend worker --loglevel=info "
            f"--concurrency=1 --hostname={node} --queues {QUEUES} --without-mingle "
            "--without-gossip"
        )
        command = (
            ["unshare", "--uts", "sh", "-c", f"hostname {host} && {celery}"]
            if as_root
            else ["sh", "-c", celery]
        )
        log = (LOG_DIR / f"{node}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        workers.append((node, process))
    deadline = time.monotonic() + 120
    waiting = {node for node, _ in workers}
    while waiting:
        if time.monotonic() > deadline:
            raise SystemExit(f"workers not ready: {sorted(waiting)}")
        for answer in app.control.ping(destination=list(waiting), timeout=1):
            waiting -= set(answer)
    return workers


def stop_workers(workers: list[tuple[str, subprocess.Popen]]) -> None:
    for _, process in workers:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for _, process in workers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def histogram_quantiles(channel: str) -> dict[str, float | None]:
    """p50/p99 of the lateness histogram, interpolated in its buckets as Prometheus's
    histogram_quantile does."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(METRICS_DIR))
    buckets: list[tuple[float, float]] = []
    for family in registry.collect():
        if family.name == "medguard_reminder_lateness_seconds":
            for sample in family.samples:
                if sample.name.endswith("_bucket") and sample.labels.get("channel") == channel:
                    buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return {"p50": None, "p99": None, "count": 0}
    total = buckets[-1][1]
    answer: dict[str, float | None] = {"count": total}
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        rank = q * total
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in buckets:
            if count >= rank:
                if bound == float("inf"):
                    answer[name] = lower_bound
                else:
                    share = (rank - lower_count) / max(count - lower_count, 1e-9)
                    answer[name] = round(lower_bound + (bound - lower_bound) * share, 2)
                break
            lower_bound, lower_count = bound, count
    return answer


def claimed_by_worker(node: str) -> int:
    log = (LOG_DIR / f"{node}.log").read_text(errors="replace")
    return sum(
        int(m)
        for m in re.findall(r"send_deliveries\[[^\]]+\] succeeded[^\n]*'claimed': (\d+)", log)
    )


def fan_out_seconds(nodes: list[str]) -> float | None:
    """How long the dispatcher task (the slot's doses, reminders and deliveries written,
    the sends published) ran, from the log of the worker that ran it."""
    for node in nodes:
        log = (LOG_DIR / f"{node}.log").read_text(errors="replace")
        found = re.search(r"dispatch_due_reminders\[[^\]]+\] succeeded in ([0-9.]+)s", log)
        if found:
            return round(float(found.group(1)), 1)
    return None


def run(patients: int, worker_count: int, environ: dict[str, str]) -> dict[str, object]:
    from django.db import connection

    from medguard_backend.celery import app
    from medications.tasks import dispatch_due_reminders

    clear_run()
    app.control.purge()
    workers = start_workers(worker_count, environ)
    try:
        due_local = (datetime.datetime.now(TZ) + datetime.timedelta(seconds=20)).replace(
            second=0, microsecond=0
        ) + datetime.timedelta(minutes=1)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE medications_schedule SET custom_time = %s", [due_local.time()])
        expected = 2 * patients
        time.sleep(max(0.0, due_local.timestamp() - time.time()))

        busy0, total0 = machine_busy()
        cpu0 = {name: cpu_of(pids) for name, pids in measured_processes(workers).items()}
        activity0 = database_activity()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends = BackendWatch(cursor.fetchone()[0])
        dispatch_due_reminders.delay()
        started = time.monotonic()
        deadline = started + 900
        sent = 0
        while sent < expected and time.monotonic() < deadline:
            time.sleep(1)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM notifications_delivery WHERE status='sent'")
                sent = cursor.fetchone()[0]
            backends.sample()
        measured = time.monotonic() - started
        busy1, total1 = machine_busy()
        cpu1 = {name: cpu_of(pids) for name, pids in measured_processes(workers).items()}
        time.sleep(1)  # the statistics collector reports with a short delay
        activity = {name: count - activity0[name] for name, count in database_activity().items()}
        committed = activity["commits"]
        time.sleep(3)  # the last batch's metrics are written after its task returns
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT channel, count(*), "
                "extract(epoch FROM max(sent_at) - %s), "
                "extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY sent_at - %s)),"
                "extract(epoch FROM percentile_cont(0.99) WITHIN GROUP (ORDER BY sent_at - %s))"
                " FROM notifications_delivery WHERE status = 'sent' GROUP BY channel",
                [due_local, due_local, due_local],
            )
            by_channel = {
                channel: {
                    "sent": count,
                    "last_sent_s": round(float(last), 2),
                    "db_p50_s": round(float(p50), 2),
                    "db_p99_s": round(float(p99), 2),
                }
                for channel, count, last, p50, p99 in cursor.fetchall()
            }
            cursor.execute("SELECT status, count(*) FROM notifications_delivery GROUP BY status")
            statuses = dict(cursor.fetchall())
    finally:
        stop_workers(workers)
    for channel in by_channel:
        by_channel[channel]["metrics_lateness"] = histogram_quantiles(channel)
    return {
        "patients": patients,
        "workers": worker_count,
        "all_sent": sent >= expected,
        "end_to_end_s": max((c["last_sent_s"] for c in by_channel.values()), default=None),
        "statuses": statuses,
        "channels": by_channel,
        "claimed_by_worker": {node: claimed_by_worker(node) for node, _ in workers},
        "fan_out_task_s": fan_out_seconds([node for node, _ in workers]),
        "cpu_seconds": {name: round(cpu_used_since(cpu0[name], cpu1[name]), 1) for name in cpu0}
        | {"postgres_bench_database": round(backends.cpu_seconds(), 1)},
        "commits": committed,
        "rows_written": activity["rows_inserted"] + activity["rows_updated"],
        "rows_written_per_delivery": round(
            (activity["rows_inserted"] + activity["rows_updated"]) / max(sent, 1), 1
        ),
        "wal_mb": round(activity["wal_bytes"] / 1e6, 1),
        "commits_per_delivery": round(committed / max(sent, 1), 2),
        "commits_per_second": round(committed / max(measured, 1e-9)),
        "machine_busy_share": round((busy1 - busy0) / max(total1 - total0, 1), 2),
        "measured_s": round(measured, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    ensure_database()
    setup_django()
    from django.conf import settings

    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    reset_tables()
    create_patients(args.patients)

    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "push_sink.py")], stdout=subprocess.PIPE
    )
    assert sink.stdout is not None
    ready, port = sink.stdout.readline().split()
    assert ready == b"ready"
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "medguard_backend.settings.test",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        # The production path: Expo's API (chunks of 100, in flight together).
        "NOTIFICATION_PUSH_TRANSPORT": "notifications.channels.push.ProviderPushTransport",
        "EXPO_API_URL": f"http://127.0.0.1:{port.decode()}",
        "PROMETHEUS_MULTIPROC_DIR": str(METRICS_DIR),
        "PYTHONUNBUFFERED": "1",
    }
    print(
        f"{args.patients} patients, broker {settings.CELERY_BROKER_URL.split('@')[-1]}, "
        f"batch {settings.NOTIFICATION_BATCH_SIZE} deliveries per task",
        flush=True,
    )
    try:
        for count in (int(n) for n in args.workers.split(",")):
            result = run(args.patients, count, environ)
            channels = result["channels"]
            lateness = channels.get("in_app", {}).get("metrics_lateness", {})
            print(
                f"{count} worker(s): {'all' if result['all_sent'] else 'NOT all'} "
                f"{2 * args.patients} deliveries sent {result['end_to_end_s']}s after the due "
                f"time; in-app lateness p50 {lateness.get('p50')}s p99 {lateness.get('p99')}s "
                f"(metrics); shares {result['claimed_by_worker']}; CPU s {result['cpu_seconds']},"
                f" {result['commits_per_delivery']} commits per delivery"
                f" ({result['commits_per_second']}/s), machine busy"
                f" {result['machine_busy_share']:.0%}",
                flush=True,
            )
            print(json.dumps(result), flush=True)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
