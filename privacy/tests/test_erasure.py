"""Erasure: nothing personal about the person is left in any table afterwards."""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from medications.models import CaregiverLink, Medicine
from notifications.models import Delivery, Notification, NotificationRecipient
from privacy.encryption.rotation import encrypted_models
from privacy.models import AuditEntry, ConsentRecord, ErasureRecord

from .people import MEDICINE, household


def tables_containing(needle: str) -> list[str]:
    """Every table and column (any type, read as text) whose value contains ``needle``: in
    clear (a raw SELECT), or once decrypted (the encrypted columns, read through the ORM)."""
    return clear_columns_containing(needle) + encrypted_columns_containing(needle)


def encrypted_columns_containing(needle: str) -> list[str]:
    found = []
    wanted = needle.upper()
    for target in encrypted_models():
        for name in target.fields:
            column = target.model._meta.get_field(name).column
            values = target.model._base_manager.values_list(name, flat=True)
            if any(wanted in str(value).upper() for value in values):
                found.append(f"{target.model._meta.db_table}.{column}")
    return found


def clear_columns_containing(needle: str) -> list[str]:
    """Every table and column whose stored value (read as text by SQL) contains ``needle``."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 - names from introspection
                    f"WHERE UPPER(CAST({quote(column.name)} AS TEXT)) LIKE UPPER(%s)",
                    [f"%{needle}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


def personal_details(patient) -> list[str]:
    return [
        patient.first_name,
        patient.last_name,
        patient.email,
        str(patient.phone),
        str(patient.phone).removeprefix("+27"),
        MEDICINE,
    ]


def test_the_fixture_really_spreads_the_persons_details_across_tables(
    patient, caregiver, staff_member
) -> None:
    """The control for the erasure test: before it, the search finds them (the encrypted
    ones only once decrypted: a raw SELECT shows none of them)."""
    household(patient, caregiver)
    # Every detail the erasure test looks for is there to be found before it.
    assert all(tables_containing(needle) for needle in personal_details(patient))
    assert {t.split(".")[0] for t in tables_containing(MEDICINE)} >= {
        "medications_medicine",
        "medications_supply",
        "notifications_notification",
    }
    # The caregiver's missed-dose and low-stock notifications name the patient.
    assert set(tables_containing(patient.last_name)) >= {
        "accounts_user.last_name",
        "notifications_notification.context",
    }
    assert {"accounts_user.phone", "patients_caregiverinvitation.phone"} <= set(
        tables_containing(str(patient.phone))
    )
    assert {"account_emailaddress.email", "patients_caregiverinvitation.email"} <= set(
        tables_containing(patient.email)
    )
    # Encrypted columns hold no clear text: a raw search alone would pass vacuously.
    assert clear_columns_containing(MEDICINE) == []
    assert clear_columns_containing(str(patient.phone)) == []
    assert "patients_caregiverinvitation.email" not in clear_columns_containing(patient.email)


def test_erasing_myself_leaves_nothing_personal_in_any_table(
    patient, caregiver, staff_member, api_client_for
) -> None:
    home = household(patient, caregiver)
    caregiver_client = api_client_for(caregiver)
    assert caregiver_client.get(f"/api/patients/{patient.pk}/medications/").status_code == 200
    user_type = ContentType.objects.get_for_model(type(patient))
    LogEntry.objects.create(
        user=staff_member,
        content_type=user_type,
        object_id=str(patient.pk),
        object_repr=str(patient),
        action_flag=CHANGE,
        change_message=f"Changed phone for {patient.get_full_name()}",
    )
    details = personal_details(patient)
    client = api_client_for(patient)

    refused = client.delete("/api/me/", {"password": "not my password"}, format="json")
    assert refused.status_code == 400
    assert list(refused.json()) == ["password"]
    assert tables_containing(MEDICINE)  # nothing was erased

    response = client.delete("/api/me/", {"password": "long-test-password-1"}, format="json")

    assert response.status_code == 204
    leftovers = {needle: tables_containing(needle) for needle in details}
    assert leftovers == {needle: [] for needle in details}
    # Ended for the caregiver too, and nothing left waiting to be sent.
    assert not CaregiverLink.objects.exists()
    assert not Notification.objects.filter(recipients__user=caregiver).exists()
    waiting = Delivery.objects.filter(status__in=["pending", "sending"])
    assert set(waiting.values_list("recipient__user__username", flat=True)) == {"neighbour"}
    assert MEDICINE not in Medicine.objects.values_list("name", flat=True)
    # Kept, with nobody attached: consent history, the audit trail, the erasure itself.
    assert list(ConsentRecord.objects.values_list("user_id", "ip_address", "purpose")) == [
        (None, None, "sms_reminders")
    ]
    assert AuditEntry.objects.filter(resource="medications", subject=None).count() == 1
    erasure = ErasureRecord.objects.get()
    assert (erasure.method, erasure.requested_by, erasure.reason) == ("self", None, "")
    assert erasure.removed["caregiver_links"] == 1
    # Others' data stays: the shared clinic notice and the neighbour's copy of it.
    assert NotificationRecipient.objects.filter(user=home.neighbour).count() == 1
    # Signed out: the token went with the account.
    assert client.get("/api/me/consents/").status_code == 401


def test_staff_erase_a_person_by_command_with_a_recorded_reason(
    patient, caregiver, staff_member
) -> None:
    household(patient, caregiver)
    details = personal_details(patient)

    call_command(
        "erase_person",
        str(patient.pk),
        staff="sipho",
        reason=f"Request REF-2026-114 by letter from {patient.email}",
    )

    assert {needle: tables_containing(needle) for needle in details} == {
        needle: [] for needle in details
    }
    erasure = ErasureRecord.objects.get()
    assert (erasure.method, erasure.requested_by, erasure.reason) == (
        "staff",
        staff_member,
        "Request REF-2026-114 by letter from [redacted]",
    )
