from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from demo.medications import first_dose_time
from medications.models import Schedule
from medications.stock import check_low_stock
from notifications.models import Delivery, Notification, NotificationRecipient
from notifications.rendering.messages import render_in_app

User = get_user_model()
pytestmark = pytest.mark.django_db
JOHANNESBURG = ZoneInfo("Africa/Johannesburg")


def in_app(username: str, event: str) -> list[tuple[str, str]]:
    user = User.objects.get(username=username)
    recipients = NotificationRecipient.objects.filter(
        user=user, notification__event=event
    ).select_related("notification")
    return sorted(render_in_app(recipient.notification, user) for recipient in recipients)


def test_demo_data_loads_twice_without_duplicates() -> None:
    call_command("load_demo_data")
    call_command("load_demo_data")

    assert sorted(User.objects.values_list("username", flat=True)) == [
        "admin",
        "johan",
        "naledi",
        "thandi",
    ]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.user_type == "staff"
    assert User.objects.get(username="johan").preferred_language == "af"
    assert User.objects.get(username="thandi").check_password("medguard-demo")
    # The demo notifications went through the pipeline once, however often it is loaded.
    keys = Notification.objects.filter(idempotency_key__startswith="demo-welcome")
    assert sorted(keys.values_list("idempotency_key", flat=True)) == [
        "demo-welcome-af",
        "demo-welcome-en",
    ]
    assert Delivery.objects.filter(recipient__user__username="thandi", channel="email").exists()
    deliveries = Delivery.objects.count()
    call_command("load_demo_data")
    assert Delivery.objects.count() == deliveries


def test_each_demo_person_is_welcomed_in_their_own_language() -> None:
    call_command("load_demo_data")

    welcome_en = (
        "Welcome to MedGuard SA",
        "Your reminders and stock alerts will appear here and in your email.",
    )
    welcome_af = (
        "Welkom by MedGuard SA",
        "Jou herinnerings en voorraadwaarskuwings sal hier en in jou e-pos verskyn.",
    )
    assert in_app("johan", "custom") == [welcome_af]
    assert in_app("thandi", "custom") == [welcome_en]
    assert in_app("naledi", "custom") == [welcome_en]
    assert in_app("admin", "custom") == sorted(
        [
            welcome_en,
            ("Scheduled maintenance", "MedGuard will be unavailable tonight from 02:00 to 02:30."),
        ]
    )


def test_johans_demo_reminder_is_for_his_own_medicine_in_afrikaans() -> None:
    call_command("load_demo_data")

    [(title, content)] = in_app("johan", "medication_reminder")
    assert title == "Tyd om Amlodipine 5 mg te neem"
    assert content == "Neem nou 1 tablet. Neem soggens"
    [(_title, thandis)] = in_app("thandi", "medication_reminder")
    assert thandis == "Take 1 tablet now. Take with breakfast"


def test_johans_low_stock_alert_counts_his_tablets_in_afrikaans() -> None:
    call_command("load_demo_data")
    check_low_stock()

    [(title, content)] = in_app("johan", "low_stock")
    assert title == "Amlodipine 5 mg raak min"
    assert "Jy het nog 4 tablette oor." in content


def test_thandis_demo_dose_is_due_within_a_minute_of_loading() -> None:
    before = timezone.now()
    call_command("load_demo_data")
    after = timezone.now()

    schedule = Schedule.objects.get(supply__patient__username="thandi", slot="custom")
    assert schedule.custom_time is not None
    local = before.astimezone(JOHANNESBURG)
    due = datetime.datetime.combine(local.date(), schedule.custom_time, JOHANNESBURG)
    if due < local - datetime.timedelta(minutes=1):
        due += datetime.timedelta(days=1)  # loaded in the last minute of the day
    assert before < due <= after + datetime.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-30T10:00:00+00:00", datetime.time(12, 1)),
        ("2026-11-30T10:00:01+00:00", datetime.time(12, 1)),
        ("2026-11-30T10:00:59+00:00", datetime.time(12, 1)),
        ("2026-11-30T21:59:30+00:00", datetime.time(0, 0)),
    ],
)
def test_the_first_demo_dose_is_the_next_whole_minute_in_the_patients_zone(
    now: str, expected: datetime.time
) -> None:
    assert first_dose_time(datetime.datetime.fromisoformat(now), JOHANNESBURG) == expected
