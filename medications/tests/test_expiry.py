"""The Expiring Medications Check: horizon, the expiry day, once per expiry date."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from medguard_backend.testing.factories import UserFactory
from medications.expiry import check_expiring_medications
from medications.models import Supply
from medications.stock import restock
from medications.tests.factories import CaregiverLinkFactory, SupplyFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

# 09:00 in Johannesburg on Tuesday 10 March 2026, when beat runs the check.
NOW = datetime.datetime(2026, 3, 10, 7, 0, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 10)


def expiring_in(days: int, patient: Any = None, **fields: Any) -> Supply:
    return SupplyFactory(
        patient=patient or UserFactory(),
        medicine__name="Amoxicillin",
        expiry_date=TODAY + datetime.timedelta(days=days),
        warning_days=5,
        **fields,
    )


def alerts() -> list[Notification]:
    return list(Notification.objects.filter(notification_type="expiry").order_by("pk"))


@pytest.mark.parametrize(("days_before", "warned"), [(6, False), (5, True), (4, True)])
def test_a_warning_goes_out_inside_the_horizon_including_its_last_day(
    days_before: int, warned: bool
) -> None:
    supply = expiring_in(days_before)

    summary = check_expiring_medications(NOW)

    assert summary["expiring"] == int(warned)
    if not warned:
        assert alerts() == []
        return
    [alert] = alerts()
    assert (alert.event, alert.priority) == ("expiry_warning", "medium")
    assert alert.idempotency_key == f"expiry-{supply.pk}-{supply.expiry_date}"
    assert alert.context == {
        "medication_name": "Amoxicillin 500 mg",
        "expiry_date": (TODAY + datetime.timedelta(days=days_before)).isoformat(),
        "days_until_expiry": days_before,
    }
    assert list(alert.recipients.values_list("user_id", flat=True)) == [supply.patient_id]


def test_on_the_expiry_day_a_high_priority_expired_alert_goes_out() -> None:
    supply = expiring_in(0)

    summary = check_expiring_medications(NOW)

    assert summary == {
        "checked": 1,
        "expiring": 0,
        "expired": 1,
        "alerted": 1,
        "already_alerted": 0,
        "caregivers_alerted": 0,
    }
    [alert] = alerts()
    assert (alert.event, alert.priority) == ("medication_expired", "high")
    assert alert.idempotency_key == f"expired-{supply.pk}-2026-03-10"
    assert alert.context == {"medication_name": "Amoxicillin 500 mg", "expiry_date": "2026-03-10"}


def test_a_supply_that_expired_before_today_gets_nothing_more() -> None:
    expiring_in(-1)

    assert check_expiring_medications(NOW)["expired"] == 0
    assert alerts() == []


def test_inactive_supplies_and_supplies_without_an_expiry_date_are_left_alone() -> None:
    expiring_in(3, active=False)
    SupplyFactory(expiry_date=None)

    check_expiring_medications(NOW)

    assert alerts() == []


def test_running_the_check_twice_changes_nothing() -> None:
    expiring_in(3)
    expiring_in(0)
    check_expiring_medications(NOW)

    second = check_expiring_medications(NOW + datetime.timedelta(hours=1))

    assert (second["alerted"], second["already_alerted"]) == (0, 2)
    assert len(alerts()) == 2


def test_one_warning_per_expiry_date_then_the_expired_alert_on_the_day() -> None:
    supply = expiring_in(5)

    for day in range(6):
        check_expiring_medications(NOW + datetime.timedelta(days=day))

    assert [(alert.event, alert.idempotency_key) for alert in alerts()] == [
        ("expiry_warning", f"expiry-{supply.pk}-2026-03-15"),
        ("medication_expired", f"expired-{supply.pk}-2026-03-15"),
    ]


def test_a_restock_with_a_new_expiry_date_is_warned_about_again() -> None:
    patient = UserFactory()
    supply = expiring_in(3, patient)
    check_expiring_medications(NOW)

    restock(supply.pk, quantity=30, by=patient, expiry_date=TODAY + datetime.timedelta(days=4))
    check_expiring_medications(NOW)

    assert [alert.idempotency_key for alert in alerts()] == [
        f"expiry-{supply.pk}-2026-03-13",
        f"expiry-{supply.pk}-2026-03-14",
    ]


def test_the_expiry_day_is_the_patients_local_date() -> None:
    # 20:00 UTC: still 10 March in Johannesburg, already 11 March in Auckland.
    evening = datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)
    johannesburg = expiring_in(1, UserFactory(timezone="Africa/Johannesburg"))
    auckland = expiring_in(1, UserFactory(timezone="Pacific/Auckland"))

    check_expiring_medications(evening)

    assert {alert.idempotency_key: alert.event for alert in alerts()} == {
        f"expiry-{johannesburg.pk}-2026-03-11": "expiry_warning",
        f"expired-{auckland.pk}-2026-03-11": "medication_expired",
    }


def test_caregivers_get_their_own_expiry_alert_naming_the_medicine_only_when_allowed() -> None:
    patient = UserFactory(first_name="Johan", last_name="Botha")
    supply = expiring_in(2, patient)
    trusted = CaregiverLinkFactory(patient=patient, can_see_medication_details=True)
    discreet = CaregiverLinkFactory(patient=patient, can_see_medication_details=False)
    CaregiverLinkFactory(patient=patient, receives_stock_alerts=False)

    summary = check_expiring_medications(NOW)

    assert (summary["alerted"], summary["caregivers_alerted"]) == (1, 2)
    key = f"expiry-{supply.pk}-2026-03-12"
    contexts = {alert.idempotency_key: alert.context for alert in alerts()}
    assert contexts == {
        key: {
            "medication_name": "Amoxicillin 500 mg",
            "expiry_date": "2026-03-12",
            "days_until_expiry": 2,
        },
        f"{key}-caregiver-{trusted.caregiver_id}": {
            "medication_name": "Amoxicillin 500 mg",
            "expiry_date": "2026-03-12",
            "days_until_expiry": 2,
            "patient_name": "Johan Botha",
        },
        f"{key}-caregiver-{discreet.caregiver_id}": {
            "expiry_date": "2026-03-12",
            "days_until_expiry": 2,
            "patient_name": "Johan Botha",
        },
    }


def test_the_check_costs_the_same_queries_for_every_batch() -> None:
    def measure() -> int:
        with CaptureQueriesContext(connection) as captured:
            check_expiring_medications(NOW, batch_size=2)
        return len(captured)

    for _ in range(2):
        expiring_in(2)
    one_batch = measure()
    Notification.objects.all().delete()
    for _ in range(4):
        expiring_in(2)
    three_batches = measure()

    assert three_batches - 1 == 3 * (one_batch - 1)
