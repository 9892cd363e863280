"""Benchmark of the provider channels: one worker process against loopback providers that
answer after 100 ms (issue 12).

    python3 dev.py bench channels          # 1,000 and 2,000 SMS, 2,000 and 4,000 Expo pushes

The stand-ins (Clickatell, Expo) run in a process of their own, so the worker's figures
are the worker's. The worker runs ``send_deliveries`` (what the Celery task runs) over
batches of NOTIFICATION_BATCH_SIZE claimed deliveries, one after the other, in this
process.

The physical limit of a 100 ms provider is (requests in flight x messages per request) /
0.1 s, both as the stand-in saw them: the most requests it held unanswered at once during
the run, and the messages it received divided by the requests. SMS go to Clickatell in
requests of up to 100 messages (its ``messages`` array), Expo pushes in chunks of 100; a
batch of 500 is 5 requests, all in flight together.

Expo documents a limit of 600 notifications a second per project (more are refused until
the rate falls); the stand-in does not enforce it, so the push figure is what one worker
can send, not what one Expo project may. Memory: peak RSS of a fresh process per size,
flat when it does not grow with the number of messages. CPU: the worker process's own
CPU time per message sent, the figure a busy machine does not change.

The database is DATABASE_URL's with ``_channels`` (or MEDGUARD_TEST_DB_SUFFIX) appended,
so this benchmark never shares one with another running on the machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import BENCH_DB, ROOT, ensure_database, peak_rss_mb, reset_tables, setup_django

LATENCY = 0.1


def serve_providers(connection: Any) -> None:
    from medguard_backend.testing.provider_answers import install_default_routes
    from medguard_backend.testing.providers import ProviderServer

    server = ProviderServer()
    install_default_routes(server)
    server.delay = LATENCY
    server.start()
    connection.send(server.url)
    while (command := connection.recv()) != "stop":
        if command == "reset":  # after the warm-up
            server.clear()
            server.peak_in_flight = 0
        else:
            connection.send(
                {
                    "peak_in_flight": server.peak_in_flight,
                    "sms_requests": len(server.requests_to("/v1/message")),
                    "push_requests": len(server.requests_to("/--/api/v2/push/send")),
                }
            )
    server.stop()


def create_recipients(count: int, channel: str) -> list[int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from notifications.models import Delivery, PushDevice, UserNotificationPreferences
    from notifications.services import NotificationService

    user_model = get_user_model()
    unusable = make_password(None)
    users = user_model.objects.bulk_create(
        [
            user_model(
                username=f"bench{n}",
                email=f"bench{n}@example.org",
                phone=f"+2782{n:07d}",
                phone_verified=True,
                password=unusable,
            )
            for n in range(count)
        ]
    )
    UserNotificationPreferences.objects.bulk_create(
        [UserNotificationPreferences(user=u, sms_notifications_enabled=True) for u in users]
    )
    if channel == "push":
        PushDevice.objects.bulk_create(
            [
                PushDevice(user=u, kind="expo", token=f"ExponentPushToken[bench-{u.pk}]")
                for u in users
            ]
        )
    notification = NotificationService.create_notification("Reminder", "Time for your dose")
    NotificationService.send_notification_to_users(users, notification, channels=[channel])
    return list(
        Delivery.objects.filter(channel=channel, status="pending")
        .order_by("id")
        .values_list("id", flat=True)
    )


def measure(channel: str, count: int, providers: Any) -> dict[str, Any]:
    from django.conf import settings

    from notifications.delivery.dispatch import send_deliveries
    from notifications.models import Delivery

    ids = create_recipients(count, channel)
    batch = settings.NOTIFICATION_BATCH_SIZE
    send_deliveries(ids[:1])  # warm up: the pooled client and its threads
    ids = ids[1:]
    providers.send("reset")
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(ids), batch):
        send_deliveries(ids[start : start + batch])
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    sent = Delivery.objects.filter(id__in=ids, status="sent").count()
    providers.send("stats")
    seen = providers.recv()
    in_flight = seen["peak_in_flight"]
    requests = seen["sms_requests" if channel == "sms" else "push_requests"]
    per_request = len(ids) / max(requests, 1)
    limit = in_flight * per_request / LATENCY
    return {
        "channel": channel,
        "messages": len(ids),
        "sent": sent,
        "seconds": round(elapsed, 2),
        "per_second": round(sent / elapsed, 1),
        "physical_limit_per_second": limit,
        "share_of_limit": round(sent / elapsed / limit, 3),
        "in_flight": in_flight,
        "requests": requests,
        "messages_per_request": round(per_request, 1),
        "batch": batch,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        # The worker's own CPU per message: unlike the rate, it does not depend on how busy
        # the shared machine is.
        "cpu_ms_per_message": round(cpu * 1000 / max(sent, 1), 3),
    }


def own_database() -> None:
    """Point DATABASE_URL at a database of this benchmark's own."""
    url = os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    suffix = os.environ.get("MEDGUARD_TEST_DB_SUFFIX") or "_channels"
    if not name.endswith(suffix):
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}{suffix}"))


def one_size(channel: str, count: int) -> None:
    own_database()
    ensure_database()
    parent, child = multiprocessing.Pipe()
    providers = multiprocessing.Process(target=serve_providers, args=(child,), daemon=True)
    providers.start()
    url = parent.recv()
    os.environ.update(
        {
            "SMS_BACKENDS": "clickatell",
            "CLICKATELL_API_KEY": "bench",
            "CLICKATELL_API_URL": url,
            "EXPO_API_URL": url,
            "SMS_DAILY_LIMIT_PER_USER": "0",
            "NOTIFICATION_PUSH_TRANSPORT": "notifications.channels.push.ProviderPushTransport",
        }
    )
    setup_django()
    reset_tables()
    try:
        result = measure(channel, count, parent)
    finally:
        parent.send("stop")
        providers.join(10)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2, metavar=("CHANNEL", "COUNT"))
    args = parser.parse_args()
    if args.one:
        one_size(args.one[0], int(args.one[1]))
        return
    for channel, count in (("sms", 1000), ("sms", 2000), ("push", 2000), ("push", 4000)):
        output = subprocess.run(
            [sys.executable, __file__, "--one", channel, str(count)],
            cwd=ROOT / "bench",
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        result = json.loads(output.splitlines()[-1])
        print(
            f"{channel}: {result['per_second']:.0f}/s for {result['sent']} messages "
            f"({result['share_of_limit']:.0%} of the {result['physical_limit_per_second']:.0f}/s"
            f" limit of {result['in_flight']} requests in flight x"
            f" {result['messages_per_request']:.0f} messages at 100 ms), "
            f"peak RSS {result['peak_rss_mb']} MB, {result['cpu_ms_per_message']} ms CPU a message"
        )
        print(json.dumps(result))


if __name__ == "__main__":
    main()
