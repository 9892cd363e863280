"""Restocking, and the Low Stock Check: horizon, once per episode, caregivers, cost."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from medguard_backend.testing.factories import UserFactory
from medications.models import Supply
from medications.stock import check_low_stock, restock
from medications.tests.factories import CaregiverLinkFactory, ScheduleFactory, SupplyFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

# 08:00 in Johannesburg on Tuesday 10 March 2026.
NOW = datetime.datetime(2026, 3, 10, 6, 0, tzinfo=datetime.UTC)


def supply_using_one_a_day(patient: Any = None, quantity: str = "5", **fields: Any) -> Supply:
    supply = SupplyFactory(
        patient=patient or UserFactory(),
        medicine__name="Metformin",
        quantity_on_hand=Decimal(quantity),
        **fields,
    )
    ScheduleFactory(supply=supply, dose_quantity=Decimal(1))
    return supply


def low_stock_alerts() -> list[Notification]:
    return list(Notification.objects.filter(event="low_stock").order_by("pk"))


# --- the horizon ----------------------------------------------------------------------------


def test_stock_lasting_exactly_the_warning_horizon_alerts_the_patient() -> None:
    patient = UserFactory(username="thandi")
    supply = supply_using_one_a_day(patient, "5", warning_days=5)

    summary = check_low_stock(NOW)

    assert summary == {
        "checked": 1,
        "low": 1,
        "alerted": 1,
        "already_alerted": 0,
        "caregivers_alerted": 0,
    }
    [alert] = low_stock_alerts()
    assert alert.notification_type == "stock"
    assert alert.priority == "medium"
    assert alert.idempotency_key == f"low-stock-{supply.pk}-1"
    assert alert.context == {
        "medication_name": "Metformin 500 mg",
        "days_of_supply": "5.0",
        "run_out_date": "2026-03-15",
        "quantity_on_hand": "5.00",
        "unit": "tablets",
    }
    assert list(alert.recipients.values_list("user__username", flat=True)) == ["thandi"]


def test_stock_lasting_one_day_more_than_the_horizon_does_not_alert() -> None:
    supply_using_one_a_day(quantity="6", warning_days=5)

    summary = check_low_stock(NOW)

    assert summary["checked"] == 1
    assert summary["low"] == 0
    assert low_stock_alerts() == []


@pytest.mark.parametrize(("quantity", "priority"), [("0", "high"), ("1", "high"), ("2", "medium")])
def test_a_day_or_less_left_is_a_high_priority_alert(quantity: str, priority: str) -> None:
    supply_using_one_a_day(quantity=quantity)

    check_low_stock(NOW)

    assert [alert.priority for alert in low_stock_alerts()] == [priority]


def test_supplies_without_an_active_schedule_or_inactive_are_not_checked() -> None:
    paused = SupplyFactory(quantity_on_hand=Decimal(0))
    ScheduleFactory(supply=paused, paused=True)
    ended = SupplyFactory(quantity_on_hand=Decimal(0))
    ScheduleFactory(supply=ended, end_date=datetime.date(2026, 3, 1))
    SupplyFactory(quantity_on_hand=Decimal(0))  # no schedule at all
    supply_using_one_a_day(quantity="0", active=False)
    supply_using_one_a_day(UserFactory(is_active=False), quantity="0")

    assert check_low_stock(NOW)["checked"] == 0
    assert low_stock_alerts() == []


def test_today_is_the_patients_local_date() -> None:
    # 20:00 UTC: 22:00 on 10 March in Johannesburg, 09:00 on 11 March in Auckland.
    evening = datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)
    johannesburg = supply_using_one_a_day(UserFactory(timezone="Africa/Johannesburg"))
    auckland = supply_using_one_a_day(UserFactory(timezone="Pacific/Auckland"))
    # A course that ended on 10 March still counts in Johannesburg, not in Auckland.
    for supply in (johannesburg, auckland):
        ScheduleFactory(supply=supply, dose_quantity=Decimal(4), end_date=evening.date())

    check_low_stock(evening)

    by_supply = {alert.idempotency_key: alert.context for alert in low_stock_alerts()}
    assert by_supply[f"low-stock-{johannesburg.pk}-1"]["days_of_supply"] == "1.0"
    assert by_supply[f"low-stock-{johannesburg.pk}-1"]["run_out_date"] == "2026-03-11"
    assert by_supply[f"low-stock-{auckland.pk}-1"]["days_of_supply"] == "5.0"
    assert by_supply[f"low-stock-{auckland.pk}-1"]["run_out_date"] == "2026-03-16"


# --- once per episode -----------------------------------------------------------------------


def test_running_the_check_twice_alerts_once() -> None:
    supply_using_one_a_day(quantity="3")

    check_low_stock(NOW)
    second = check_low_stock(NOW + datetime.timedelta(hours=6))

    assert second["low"] == 1
    assert second["alerted"] == 0
    assert second["already_alerted"] == 1
    assert len(low_stock_alerts()) == 1


def test_after_a_restock_running_low_again_alerts_again() -> None:
    patient = UserFactory()
    supply = supply_using_one_a_day(patient, "3")
    check_low_stock(NOW)

    restock(supply.pk, quantity=Decimal(30), by=patient)
    assert check_low_stock(NOW)["low"] == 0
    Supply.objects.filter(pk=supply.pk).update(quantity_on_hand=Decimal(4))
    summary = check_low_stock(NOW + datetime.timedelta(days=26))

    assert summary["alerted"] == 1
    assert [alert.idempotency_key for alert in low_stock_alerts()] == [
        f"low-stock-{supply.pk}-1",
        f"low-stock-{supply.pk}-2",
    ]


# --- caregivers -----------------------------------------------------------------------------


def test_caregivers_get_their_own_alert_naming_the_medicine_only_when_allowed() -> None:
    patient = UserFactory(username="thandi", first_name="Thandi", last_name="Mokoena")
    supply = supply_using_one_a_day(patient, "4")
    trusted = CaregiverLinkFactory(patient=patient, can_see_medication_details=True)
    discreet = CaregiverLinkFactory(patient=patient, can_see_medication_details=False)
    CaregiverLinkFactory(patient=patient, receives_stock_alerts=False)
    CaregiverLinkFactory(patient=patient, active=False)

    summary = check_low_stock(NOW)

    assert summary["alerted"] == 1
    assert summary["caregivers_alerted"] == 2
    alerts = {alert.idempotency_key: alert for alert in low_stock_alerts()}
    key = f"low-stock-{supply.pk}-1"
    assert set(alerts) == {
        key,
        f"{key}-caregiver-{trusted.caregiver_id}",
        f"{key}-caregiver-{discreet.caregiver_id}",
    }
    facts = {
        "days_of_supply": "4.0",
        "run_out_date": "2026-03-14",
        "quantity_on_hand": "4.00",
        "unit": "tablets",
    }
    assert alerts[f"{key}-caregiver-{trusted.caregiver_id}"].context == {
        **facts,
        "medication_name": "Metformin 500 mg",
        "patient_name": "Thandi Mokoena",
    }
    assert alerts[f"{key}-caregiver-{discreet.caregiver_id}"].context == {
        **facts,
        "patient_name": "Thandi Mokoena",
    }
    for link in (trusted, discreet):
        recipients = alerts[f"{key}-caregiver-{link.caregiver_id}"].recipients
        assert list(recipients.values_list("user_id", flat=True)) == [link.caregiver_id]


def test_a_caregiver_linked_later_in_the_episode_is_told_once() -> None:
    patient = UserFactory()
    supply_using_one_a_day(patient, "4")
    check_low_stock(NOW)
    CaregiverLinkFactory(patient=patient)

    summary = check_low_stock(NOW)
    again = check_low_stock(NOW)

    assert (summary["already_alerted"], summary["caregivers_alerted"]) == (1, 1)
    assert again["caregivers_alerted"] == 0
    assert len(low_stock_alerts()) == 2


# --- restock --------------------------------------------------------------------------------


def test_restock_adds_stock_ends_the_episode_and_may_set_a_new_expiry_date() -> None:
    patient = UserFactory()
    supply = supply_using_one_a_day(patient, "2.5", expiry_date=datetime.date(2026, 4, 1))

    restocked = restock(
        supply.pk, quantity=Decimal(28), by=patient, expiry_date=datetime.date(2027, 1, 31)
    )

    assert restocked.quantity_on_hand == Decimal("30.50")
    assert restocked.stock_episode == 2
    assert restocked.expiry_date == datetime.date(2027, 1, 31)


def test_restock_without_an_expiry_date_keeps_the_old_one() -> None:
    patient = UserFactory()
    supply = supply_using_one_a_day(patient, expiry_date=datetime.date(2026, 4, 1))

    assert restock(supply.pk, quantity=Decimal(1), by=patient).expiry_date == supply.expiry_date


@pytest.mark.parametrize("quantity", [Decimal(0), Decimal(-3), "many", Decimal("NaN")])
def test_restock_refuses_a_quantity_that_is_not_positive(quantity: Any) -> None:
    patient = UserFactory()
    supply = supply_using_one_a_day(patient)

    with pytest.raises(ValueError, match="quantity"):
        restock(supply.pk, quantity=quantity, by=patient)

    supply.refresh_from_db()
    assert (supply.quantity_on_hand, supply.stock_episode) == (Decimal(5), 1)


def test_restocking_another_patients_supply_is_not_possible() -> None:
    supply = supply_using_one_a_day()

    with pytest.raises(Supply.DoesNotExist):
        restock(supply.pk, quantity=Decimal(10), by=UserFactory())

    supply.refresh_from_db()
    assert (supply.quantity_on_hand, supply.stock_episode) == (Decimal(5), 1)


# --- cost -----------------------------------------------------------------------------------


def queries_of_check(batch_size: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        check_low_stock(NOW, batch_size=batch_size)
    return len(captured)


@pytest.mark.parametrize("already_alerted", [False, True], ids=["alerting", "already-alerted"])
def test_the_check_costs_the_same_queries_for_every_batch(already_alerted: bool) -> None:
    def low_supplies_with_a_caregiver(count: int) -> None:
        for _ in range(count):
            supply = supply_using_one_a_day(quantity="2")
            CaregiverLinkFactory(patient=supply.patient, can_see_medication_details=True)
            ScheduleFactory(supply=supply, slot="evening")

    low_supplies_with_a_caregiver(2)
    if already_alerted:
        check_low_stock(NOW)
    one_batch = queries_of_check(batch_size=2)
    Notification.objects.all().delete()

    low_supplies_with_a_caregiver(4)
    if already_alerted:
        check_low_stock(NOW)
    three_batches = queries_of_check(batch_size=2)

    # The last page is one query that finds nothing more.
    per_batch = one_batch - 1
    assert three_batches == 3 * per_batch + 1
    assert len(Notification.objects.filter(event="low_stock")) == 12
