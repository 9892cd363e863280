"""The migrations that introduced encryption at rest: rows stored in clear before them are
encrypted (and given their blind indexes) by them, and unapplying them writes the values
back in clear."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from privacy.encryption.keys import TOKEN_PREFIX

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("accounts", "0002_phone_verified_and_codes"),
    ("medications", "0003_supply_unit_choices"),
    ("notifications", "0008_merge_reclaims_and_fcm_kind"),
    ("patients", "0002_invitations_by_phone"),
]
NUMBER = "+27825550147"
MEDICINE = "Zyvoxolin"


def migrate(targets: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] in dict(BEFORE)]


def stored(table: str, column: str) -> list[str]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} ORDER BY id")  # noqa: S608
        return [str(row[0]) for row in cursor.fetchall()]


def test_rows_stored_in_clear_are_encrypted_by_the_migration_and_decrypted_when_unapplied():
    old = migrate(BEFORE)
    user = old.get_model("accounts", "User").objects.create(username="thandi", phone=NUMBER)
    medicine = old.get_model("medications", "Medicine").objects.create(name=MEDICINE)
    old.get_model("medications", "Supply").objects.create(
        patient_id=user.pk, medicine_id=medicine.pk, dosage="1 tablet", instructions="With food"
    )
    old.get_model("notifications", "Notification").objects.create(
        title="Take Zyvoxolin", content="Now", context={"medication_name": MEDICINE}
    )
    for number, address in enumerate(({"email": "nomsa@example.org"}, {"phone": "+27825550188"})):
        old.get_model("patients", "CaregiverInvitation").objects.create(
            patient_id=user.pk,
            token_hash=str(number) * 64,
            expires_at=timezone.now() + datetime.timedelta(days=1),
            **address,
        )
    assert stored("medications_medicine", "name") == [MEDICINE]

    new = migrate(latest())

    for table, column in [
        ("accounts_user", "phone"),
        ("medications_medicine", "name"),
        ("medications_supply", "instructions"),
        ("notifications_notification", "title"),
        ("notifications_notification", "context"),
        ("patients_caregiverinvitation", "email"),
        ("patients_caregiverinvitation", "phone"),
    ]:
        values = [v for v in stored(table, column) if v]
        assert values, (table, column)
        assert all(v.startswith(TOKEN_PREFIX) for v in values), (table, column)
    users = new.get_model("accounts", "User").objects
    assert str(users.get().phone) == NUMBER
    assert users.get().phone_index  # found by an inbound SMS from now on
    notification = new.get_model("notifications", "Notification").objects.get()
    assert (notification.title, notification.context) == (
        "Take Zyvoxolin",
        {"medication_name": MEDICINE},
    )

    migrate(BEFORE)

    assert stored("medications_medicine", "name") == [MEDICINE]
    assert stored("accounts_user", "phone") == [NUMBER]
    assert stored("notifications_notification", "title") == ["Take Zyvoxolin"]
    migrate(latest())
