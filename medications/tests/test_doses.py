"""Taking, skipping and snoozing a dose: transitions, stock, and requests that race."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import translation

from medguard_backend.testing.factories import UserFactory
from medications.doses import DoseStateError, doses_for, skip_dose, snooze_dose, take_dose
from medications.models import Dose, Supply
from medications.tests.factories import DoseFactory, ScheduleFactory, SupplyFactory

NOW = datetime.datetime(2026, 3, 10, 6, 5, tzinfo=datetime.UTC)
ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def patient(db: None) -> Any:
    return UserFactory(username="thandi")


@pytest.fixture
def supply(patient: Any) -> Supply:
    return SupplyFactory(patient=patient, quantity_on_hand=Decimal(30))


def dose_of(supply: Supply, status: str = Dose.Status.PENDING, quantity: str = "1") -> Dose:
    return DoseFactory(
        schedule=ScheduleFactory(supply=supply, dose_quantity=Decimal(quantity)), status=status
    )


def stock(supply: Supply) -> Decimal:
    supply.refresh_from_db()
    return supply.quantity_on_hand


# --- take -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "snoozed"])
def test_taking_an_open_dose_closes_it_and_lowers_stock_by_the_dose(
    patient: Any, supply: Supply, status: str
) -> None:
    dose = dose_of(supply, status, quantity="2")

    taken = take_dose(dose.pk, by=patient, at=NOW)

    assert taken.status == "taken"
    assert taken.recorded_at == NOW
    assert taken.recorded_by == patient
    assert stock(supply) == Decimal(28)


def test_taking_a_missed_dose_late_is_recorded_and_lowers_stock(
    patient: Any, supply: Supply
) -> None:
    dose = dose_of(supply, "missed")
    Dose.objects.filter(pk=dose.pk).update(missed_at=NOW - datetime.timedelta(hours=1))

    taken = take_dose(dose.pk, by=patient, at=NOW)

    assert taken.status == "taken"
    assert taken.recorded_at == NOW
    assert taken.missed_at == NOW - datetime.timedelta(hours=1)
    assert stock(supply) == Decimal(29)


def test_taking_a_dose_twice_lowers_stock_once(patient: Any, supply: Supply) -> None:
    dose = dose_of(supply)

    take_dose(dose.pk, by=patient, at=NOW)
    again = take_dose(dose.pk, by=patient, at=NOW + datetime.timedelta(minutes=5))

    assert again.status == "taken"
    assert again.recorded_at == NOW
    assert stock(supply) == Decimal(29)


def test_taking_more_than_is_left_leaves_zero_not_a_negative_stock(patient: Any) -> None:
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal("0.50"))

    take_dose(dose_of(supply).pk, by=patient)

    assert stock(supply) == Decimal(0)


def test_a_skipped_dose_cannot_be_taken_and_stock_stays(patient: Any, supply: Supply) -> None:
    dose = dose_of(supply, "skipped")

    with pytest.raises(DoseStateError, match="skipped, so it can no longer be marked as taken"):
        take_dose(dose.pk, by=patient)

    dose.refresh_from_db()
    assert dose.status == "skipped"
    assert stock(supply) == Decimal(30)


# --- skip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "snoozed", "missed"])
def test_skipping_a_dose_closes_it_without_touching_stock(
    patient: Any, supply: Supply, status: str
) -> None:
    dose = dose_of(supply, status)

    skipped = skip_dose(dose.pk, by=patient, at=NOW)

    assert skipped.status == "skipped"
    assert skipped.recorded_at == NOW
    assert skipped.recorded_by == patient
    assert stock(supply) == Decimal(30)


def test_skipping_a_skipped_dose_again_changes_nothing(patient: Any, supply: Supply) -> None:
    dose = dose_of(supply)
    skip_dose(dose.pk, by=patient, at=NOW)

    again = skip_dose(dose.pk, by=patient, at=NOW + datetime.timedelta(hours=1))

    assert again.status == "skipped"
    assert again.recorded_at == NOW


def test_a_taken_dose_cannot_be_skipped(patient: Any, supply: Supply) -> None:
    dose = dose_of(supply)
    take_dose(dose.pk, by=patient, at=NOW)

    with pytest.raises(DoseStateError, match="already taken") as raised:
        skip_dose(dose.pk, by=patient)

    assert raised.value.status == "taken"
    assert raised.value.dose_id == dose.pk
    dose.refresh_from_db()
    assert dose.status == "taken"
    assert stock(supply) == Decimal(29)


def test_dose_state_errors_speak_the_active_language(patient: Any, supply: Supply) -> None:
    dose = dose_of(supply, "taken")

    with translation.override("af"), pytest.raises(DoseStateError) as raised:
        skip_dose(dose.pk, by=patient)

    assert str(raised.value) == "Hierdie dosis is reeds geneem en kan nie meer oorgeslaan word nie."


# --- snooze ---------------------------------------------------------------------------------


def test_snoozing_defaults_to_ten_minutes_from_now_and_counts(
    patient: Any, supply: Supply, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    dose = dose_of(supply)

    snoozed = snooze_dose(dose.pk, by=patient)

    assert snoozed.status == "snoozed"
    assert snoozed.snoozed_until == NOW + datetime.timedelta(minutes=10)
    assert snoozed.snooze_count == 1


def test_snoozing_a_snoozed_dose_again_counts_from_now(
    patient: Any, supply: Supply, time_machine: Any
) -> None:
    time_machine.move_to(NOW, tick=False)
    dose = dose_of(supply)
    snooze_dose(dose.pk, by=patient, minutes=5)
    time_machine.move_to(NOW + datetime.timedelta(minutes=5), tick=False)

    snoozed = snooze_dose(dose.pk, by=patient, minutes=120)

    assert snoozed.snoozed_until == NOW + datetime.timedelta(minutes=125)
    assert snoozed.snooze_count == 2


@pytest.mark.parametrize("minutes", [0, 121, -5, 2.5, True])
def test_snoozing_outside_one_to_the_maximum_minutes_is_refused(
    patient: Any, supply: Supply, minutes: Any
) -> None:
    dose = dose_of(supply)

    with pytest.raises(ValueError, match="minutes"):
        snooze_dose(dose.pk, by=patient, minutes=minutes)

    dose.refresh_from_db()
    assert (dose.status, dose.snooze_count, dose.snoozed_until) == ("pending", 0, None)


@pytest.mark.parametrize("minutes", [1, 120])
def test_snoozing_for_the_bounds_themselves_is_allowed(
    patient: Any, supply: Supply, minutes: int
) -> None:
    assert snooze_dose(dose_of(supply).pk, by=patient, minutes=minutes).status == "snoozed"


@pytest.mark.parametrize("status", ["taken", "skipped", "missed"])
def test_only_a_dose_still_due_can_be_snoozed(patient: Any, supply: Supply, status: str) -> None:
    dose = dose_of(supply, status)

    with pytest.raises(DoseStateError, match="still due"):
        snooze_dose(dose.pk, by=patient)

    dose.refresh_from_db()
    assert (dose.status, dose.snooze_count) == (status, 0)


# --- whose dose -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", [take_dose, skip_dose, snooze_dose])
def test_another_patients_dose_does_not_exist_for_you(
    supply: Supply, action: Callable[..., Dose]
) -> None:
    dose = dose_of(supply)
    stranger = UserFactory()

    with pytest.raises(Dose.DoesNotExist):
        action(dose.pk, by=stranger)

    dose.refresh_from_db()
    assert dose.status == "pending"
    assert stock(supply) == Decimal(30)


def test_doses_for_a_patient_are_their_own_only(patient: Any, supply: Supply) -> None:
    mine = [dose_of(supply), dose_of(supply)]
    dose_of(SupplyFactory())

    assert set(doses_for(patient)) == set(mine)


# --- requests that arrive together ----------------------------------------------------------


def in_threads(calls: list[Callable[[], Dose]]) -> None:
    """Start the calls at the same moment, each in its own thread and so on its own
    database connection, as two web requests would."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], Dose]) -> None:
        try:
            start.wait(timeout=10)
            call()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors


def one_after_another(calls: list[Callable[[], Dose]]) -> None:
    for call in calls:
        call()


# SQLite serialises writers, so there is no race to provoke: the same end state is asserted
# with the calls one after another. PostgreSQL runs them in threads on separate connections.
TOGETHER = (
    pytest.param(in_threads, id="threads-on-postgresql")
    if ON_POSTGRESQL
    else pytest.param(one_after_another, id="sequential-on-sqlite")
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run_together", [TOGETHER])
def test_two_doses_of_one_supply_taken_together_both_lower_stock(
    run_together: Callable[[list[Callable[[], Dose]]], None],
) -> None:
    patient = UserFactory()
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal(30))
    morning, evening = dose_of(supply, quantity="1"), dose_of(supply, quantity="2")

    run_together(
        [
            lambda: take_dose(morning.pk, by=patient),
            lambda: take_dose(evening.pk, by=patient),
        ]
    )

    assert stock(supply) == Decimal(27)
    assert set(Dose.objects.values_list("status", flat=True)) == {"taken"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run_together", [TOGETHER])
def test_one_dose_taken_twice_together_lowers_stock_once(
    run_together: Callable[[list[Callable[[], Dose]]], None],
) -> None:
    patient = UserFactory()
    supply = SupplyFactory(patient=patient, quantity_on_hand=Decimal(30))
    dose = dose_of(supply)

    run_together([lambda: take_dose(dose.pk, by=patient)] * 4)

    assert stock(supply) == Decimal(29)
    dose.refresh_from_db()
    assert dose.status == "taken"
