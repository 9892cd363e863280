"""Benchmark of the staff dashboard at scale (issue 13: "renders in < 500 ms with 10 million
deliveries").

    python3 dev.py bench dashboard                      # 1 million, then 10 million deliveries
    python3 dev.py bench dashboard --deliveries 1000000

For each size: fills PostgreSQL with 100,000 patients, their notifications over 30 days,
a recipient per patient and notification, and four deliveries per recipient (in-app, email,
SMS, push) in a mix of statuses, plus three doses a day; then times the first rollup (every
day, once), a routine refresh (the open days only) and the dashboard page itself as a
signed-in staff member sees it (median and worst of 20 renders through Django's handler).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import create_users, ensure_database, reset_tables, setup_django

PATIENTS = 100_000
DAYS = 30


def fill(deliveries: int) -> None:
    from django.db import connection

    from medications.models import Medicine
    from privacy.encryption.keys import encrypt

    recipients = deliveries // 4
    notifications = max(1, recipients // PATIENTS)
    per_notification = recipients // notifications
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_notification (title, content, notification_type, "
            "priority, require_acknowledgment, event, context, idempotency_key, created_at) "
            "SELECT %s, %s, 'system', 'medium', n %% 3 = 0, 'custom', "
            "%s, NULL, now() - make_interval(days => (%s - (n * %s / %s))::int) "
            "FROM generate_series(1, %s) AS n",
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
        cursor.execute(
            "INSERT INTO notifications_notificationrecipient (notification_id, user_id, status, "
            "in_app, created_at, read_at) "
            "SELECT n.id, u.id, 'unread', true, n.created_at, "
            "CASE WHEN u.id %% 4 = 0 THEN NULL "
            "ELSE n.created_at + make_interval(mins => ((u.id %% 7) * (u.id %% 300))::int) END "
            "FROM notifications_notification n "
            "CROSS JOIN LATERAL (SELECT id FROM accounts_user ORDER BY id LIMIT %s) u "
            "ORDER BY n.id, u.id",
            [per_notification],
        )
        cursor.execute(
            "INSERT INTO notifications_delivery (recipient_id, channel, status, not_before, "
            "digest, attempts, provider_message_id, last_error, created_at, updated_at) "
            "SELECT r.id, c.channel, "
            "CASE WHEN r.id % 50 = 0 THEN 'failed' WHEN r.id % 13 = 0 THEN 'skipped' "
            "ELSE 'sent' END, r.created_at, false, 1, '', "
            "CASE WHEN r.id % 50 = 0 THEN (ARRAY['invalid number', 'gateway timeout', "
            "'mailbox full'])[1 + r.id % 3] ELSE '' END, r.created_at, r.created_at "
            "FROM notifications_notificationrecipient r "
            "CROSS JOIN (VALUES ('in_app'), ('email'), ('sms'), ('push')) AS c(channel) "
            "ORDER BY r.id"
        )
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
            "INSERT INTO medications_schedule (supply_id, slot, dose_quantity, days_of_week, "
            "start_date, paused, created_at) SELECT id, 'morning', 1, 127, current_date - 40, "
            "false, now() FROM medications_supply"
        )
        cursor.execute(
            "INSERT INTO medications_dose (schedule_id, due_at, status, snooze_count) "
            "SELECT s.id, date_trunc('day', now()) - make_interval(days => d::int, hours => -6), "
            "(ARRAY['taken', 'taken', 'taken', 'skipped', 'missed'])[1 + (s.id + d) %% 5], 0 "
            "FROM medications_schedule s CROSS JOIN generate_series(0, %s) AS d "
            "ORDER BY d DESC, s.id",
            [DAYS - 1],
        )
        cursor.execute("ANALYZE")
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
    from django.test.utils import setup_test_environment

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

    setup_test_environment()  # so the page's context can be read back, as in the tests
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
    for size in args.deliveries or [1_000_000, 10_000_000]:
        run(size)


if __name__ == "__main__":
    main()
