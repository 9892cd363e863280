"""Encryption at rest: a raw SELECT shows no phone number, address, medicine name or message
text; the ORM reads them back; keys rotate while reads go on; blind indexes find values."""

from __future__ import annotations

import datetime

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import PhoneVerification
from medguard_backend.testing.factories import PreferencesFactory, UserFactory
from medications.models import Medicine, Supply
from medications.tests.factories import SupplyFactory
from notifications.models import Notification
from notifications.receipts.replies import InboundSMS, handle_reply
from notifications.services import NotificationService
from patients.models import CaregiverInvitation
from privacy.encryption.fields import EncryptedColumnLookupError, blind_match
from privacy.encryption.keys import TOKEN_PREFIX
from privacy.encryption.rotation import encrypted_models, of_model, reencrypt_batches

from .people import MEDICINE, household
from .test_erasure import clear_columns_containing

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
OLD_INDEX_KEY = "old-blind-index-key-0123456789abcdefghijklmnop"
NEW_INDEX_KEY = "new-blind-index-key-0123456789abcdefghijklmnop"
INVITED = "nomsa.caregiver@example.org"
INVITED_PHONE = "+27825550188"


def stored(table: str, column: str) -> list[str]:
    """A column's values as the database holds them (no ORM, no decryption)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def invite(patient) -> None:
    """Two invitations: one by email, one by SMS."""
    for number, address in enumerate(({"email": INVITED}, {"phone": INVITED_PHONE}), 1):
        CaregiverInvitation.objects.create(
            patient=patient,
            token_hash=str(number) * 64,
            expires_at=timezone.now() + datetime.timedelta(days=7),
            **address,
        )


def everything_readable() -> dict[str, list[object]]:
    """Every encrypted value, read through the ORM (decrypted with whichever key opens it)."""
    return {
        target.label: [
            list(row)
            for row in target.model._base_manager.order_by("pk").values_list(*target.fields)
        ]
        for target in encrypted_models()
    }


def test_a_raw_select_shows_no_phone_number_address_medicine_or_message_text(
    patient, caregiver
) -> None:
    household(patient, caregiver)
    invite(patient)
    PhoneVerification.objects.create(
        user=patient, phone=patient.phone, code_hash="x", expires_at=timezone.now()
    )
    secrets = [
        str(patient.phone),
        str(patient.phone).removeprefix("+27"),
        INVITED,
        INVITED_PHONE,
        INVITED_PHONE.removeprefix("+27"),
        MEDICINE,
        "Clinic closed",  # a staff notice's title
        "Friday",  # and its text
        "with food",  # the patient's instructions
        patient.last_name,  # named in the caregiver's notification's facts
    ]
    # Stored, and found by SQL only where they are meant to be in clear (the user's row).
    assert {s: clear_columns_containing(s) for s in secrets} == {
        **{s: [] for s in secrets},
        patient.last_name: ["accounts_user.last_name"],
    }
    for table, column in [
        ("accounts_user", "phone"),
        ("accounts_phoneverification", "phone"),
        ("patients_caregiverinvitation", "email"),
        ("patients_caregiverinvitation", "phone"),
        ("medications_medicine", "name"),
        ("medications_supply", "instructions"),
        ("notifications_notification", "title"),
        ("notifications_notification", "context"),
    ]:
        values = [v for v in stored(table, column) if v]
        assert values
        assert all(value.startswith(TOKEN_PREFIX) for value in values), (table, column)


def test_the_orm_reads_back_what_was_written(patient) -> None:
    supply = SupplyFactory(patient=patient, medicine__name=MEDICINE, instructions="With food")
    invite(patient)
    notification = NotificationService.create_notification(
        "Clinic closed", "Friday", "system", "low"
    )

    assert str(type(patient).objects.get(pk=patient.pk).phone) == "+27825550147"
    assert sorted((i.email, str(i.phone)) for i in CaregiverInvitation.objects.all()) == [
        ("", INVITED_PHONE),
        (INVITED, ""),
    ]
    read = Supply.objects.select_related("medicine").get(pk=supply.pk)
    assert (read.medicine.name, read.instructions) == (MEDICINE, "With food")
    again = Notification.objects.get(pk=notification.pk)
    assert (again.title, again.content) == ("Clinic closed", "Friday")
    # values() and joins decrypt too (the export reads this way).
    assert list(Supply.objects.values_list("medicine__name", "dosage")) == [
        (MEDICINE, supply.dosage)
    ]


def test_an_encrypted_column_refuses_a_comparison_by_value() -> None:
    with pytest.raises(EncryptedColumnLookupError, match=r"Notification\.title is encrypted"):
        list(Notification.objects.filter(title="Clinic closed"))
    with pytest.raises(EncryptedColumnLookupError):
        list(Medicine.objects.filter(name=MEDICINE))
    # Emptiness is the one question a token column answers.
    assert list(Notification.objects.filter(content="")) == []


def test_the_catalogue_finds_a_medicine_by_its_encrypted_name() -> None:
    first, created = Medicine.objects.get_or_create_named(MEDICINE, strength="500 mg")
    again, created_again = Medicine.objects.get_or_create_named(MEDICINE, strength="500 mg")
    other, _ = Medicine.objects.get_or_create_named(MEDICINE, strength="250 mg")

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk != other.pk
    # A form (the admin's) is told of the twin before the INSERT would fail.
    with pytest.raises(ValidationError, match="already exists"):
        Medicine(name=MEDICINE, strength="500 mg").full_clean()


def test_rows_written_in_clear_are_read_as_they_are_and_encrypted_by_the_rotation() -> None:
    """What a process still running the old code writes during a deploy (or a row the data
    migration has not reached) reads; the rotation then encrypts it."""
    notification = Notification.objects.create(title="placeholder")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_notification SET title = %s WHERE id = %s",
            ["Written in clear", notification.pk],
        )

    assert Notification.objects.get(pk=notification.pk).title == "Written in clear"
    with pytest.raises(CommandError, match="1 rows are not under the current key"):
        call_command("rotate_encryption_keys", "--check")

    call_command("rotate_encryption_keys")

    [title] = stored("notifications_notification", "title")
    assert title.startswith(TOKEN_PREFIX)
    assert Notification.objects.get(pk=notification.pk).title == "Written in clear"


def test_rotation_re_encrypts_everything_and_old_tokens_read_during_it(
    settings, patient, caregiver, django_capture_on_commit_callbacks
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    settings.BLIND_INDEX_KEYS = [OLD_INDEX_KEY]
    patient.save()  # the fixture's number, under the old keys like the rest
    household(patient, caregiver)
    invite(patient)
    before = everything_readable()
    old_tokens = stored("notifications_notification", "title")

    # The new keys go first; the old ones stay until the rotation is done.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    settings.BLIND_INDEX_KEYS = [NEW_INDEX_KEY, OLD_INDEX_KEY]
    notifications = of_model(Notification)
    halfway = reencrypt_batches(notifications, batch_size=1)
    assert next(halfway) == 1
    tokens = stored("notifications_notification", "title")
    assert tokens[0] != old_tokens[0]
    assert tokens[1:] == old_tokens[1:]
    # Mid-rotation: rows under either key read, and the number is still found.
    assert everything_readable() == before
    assert sender_is_found(patient)
    halfway.close()
    with pytest.raises(CommandError, match="not under the current key"):
        call_command("rotate_encryption_keys", "--check")

    call_command("rotate_encryption_keys", "--batch-size", "2")

    # Only the new keys now: everything still reads, so nothing is left under the old ones.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    settings.BLIND_INDEX_KEYS = [NEW_INDEX_KEY]
    assert everything_readable() == before
    assert sender_is_found(patient)
    call_command("rotate_encryption_keys", "--check")


def sender_is_found(patient) -> bool:
    user_model = type(patient)
    return user_model.objects.filter(blind_match(user_model, "phone", patient.phone)).exists()


def test_rotation_costs_the_same_queries_for_every_batch(patient) -> None:
    for number in range(6):
        Notification.objects.create(title=f"N{number}", content="text")
    notifications = of_model(Notification)

    def queries(batch_size: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            batches = list(reencrypt_batches(notifications, batch_size=batch_size))
        return len(batches), len(captured.captured_queries)

    one_batch, one = queries(6)
    three_batches, three = queries(2)
    six_batches, six = queries(1)

    assert (one_batch, three_batches, six_batches) == (1, 3, 6)
    per_batch = (six - three) // 3
    assert (three - one, six - three) == (2 * per_batch, 3 * per_batch)
    assert per_batch <= 4  # read and lock, write (and the batch's savepoint around them)


def test_an_sms_stop_finds_the_numbers_owner_by_the_blind_index(patient) -> None:
    stranger = UserFactory(username="stranger", phone="+27825550999", phone_verified=True)
    mine = PreferencesFactory(user=patient, sms_notifications_enabled=True)
    theirs = PreferencesFactory(user=stranger, sms_notifications_enabled=True)
    assert patient.phone_index
    assert patient.phone_index != stranger.phone_index

    outcome = handle_reply(InboundSMS("clickatell", "in-stop-1", "+27825550147", "STOP"))

    assert outcome == "opted_out"
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.sms_notifications_enabled, theirs.sms_notifications_enabled) == (False, True)


def test_changing_a_number_moves_its_blind_index(patient) -> None:
    patient.set_phone("0825550148", verified=True)
    patient.save(update_fields=["phone", "phone_verified"])

    user_model = type(patient)
    assert user_model.objects.filter(blind_match(user_model, "phone", "+27825550148")).get() == (
        patient
    )
    assert not user_model.objects.filter(blind_match(user_model, "phone", "+27825550147"))
