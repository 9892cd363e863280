"""A number the user typed gets no SMS until they type back the code it received."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.contrib.auth import get_user_model

from accounts.models import PhoneVerification
from notifications.delivery.dispatch import send_deliveries
from notifications.models import Delivery, DeliveryStatus
from notifications.services import NotificationService

from .conftest import sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def sms_outbox(settings, tmp_path):
    """The file SMS transport (the project's default) writing into this test's folder."""
    settings.NOTIFICATION_TRANSPORTS = {
        **settings.NOTIFICATION_TRANSPORTS,
        "sms": "notifications.channels.sms.FileSMSTransport",
    }
    settings.NOTIFICATION_FILE_TRANSPORT_DIR = tmp_path / "outbox"
    folder = tmp_path / "outbox" / "sms"

    def sent() -> list[dict]:
        files = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime_ns)
        return [json.loads(path.read_text()) for path in files]

    return sent


def code_in(sms: dict) -> str:
    match = re.search(r"\b(\d{6})\b", sms["text"])
    assert match, sms["text"]
    return match.group(1)


@pytest.fixture
def signed_in_thandi(client, thandi):
    sign_in(client, "thandi")
    return client


def test_a_typed_number_is_verified_by_the_code_texted_to_it(signed_in_thandi, thandi, sms_outbox):
    client = signed_in_thandi

    asked = client.post("/accounts/phone/", {"phone": "082 555 0101"})
    [sms] = sms_outbox()
    thandi.refresh_from_db()
    waiting = (str(thandi.phone), thandi.phone_verified)
    verified = client.post("/accounts/phone/verify/", {"code": code_in(sms)}, follow=True)
    thandi.refresh_from_db()

    assert asked["Location"] == "/accounts/phone/verify/"
    assert sms["to"] == "+27825550101"
    assert sms["text"].startswith("Your MedGuard SA code is ")
    assert waiting == ("+27825550101", False)
    assert "Your phone number is verified." in verified.content.decode()
    assert (str(thandi.phone), thandi.phone_verified) == ("+27825550101", True)
    assert not PhoneVerification.objects.exists()


def test_the_code_is_stored_only_as_a_keyed_hash(signed_in_thandi, thandi, sms_outbox):
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    code = code_in(sms_outbox()[0])

    row = PhoneVerification.objects.values().get()

    assert code not in json.dumps(row, default=str)
    assert len(row["code_hash"]) == 64


def test_a_wrong_code_is_refused_next_to_the_field(signed_in_thandi, thandi, sms_outbox):
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    wrong = "000000" if code_in(sms_outbox()[0]) != "000000" else "111111"

    response = signed_in_thandi.post("/accounts/phone/verify/", {"code": wrong})
    thandi.refresh_from_db()

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "code": ["That code is not right. Check the SMS and try again."]
    }
    assert thandi.phone_verified is False
    assert PhoneVerification.objects.get().attempts == 1


def test_the_fifth_wrong_code_ends_the_code_and_the_right_one_no_longer_works(
    signed_in_thandi, thandi, sms_outbox
):
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    right = code_in(sms_outbox()[0])
    wrong = "000000" if right != "000000" else "111111"

    for _attempt in range(4):
        signed_in_thandi.post("/accounts/phone/verify/", {"code": wrong})
    fifth = signed_in_thandi.post("/accounts/phone/verify/", {"code": wrong})
    late = signed_in_thandi.post("/accounts/phone/verify/", {"code": right})
    thandi.refresh_from_db()

    assert fifth.context["form"].errors == {"code": ["Too many wrong codes. Ask for a new one."]}
    assert late.context["form"].errors == {"code": ["There is no code waiting. Ask for a new one."]}
    assert thandi.phone_verified is False


def test_an_expired_code_is_refused(signed_in_thandi, thandi, sms_outbox, time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC), tick=False)
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    code = code_in(sms_outbox()[0])

    time_machine.move_to(datetime.datetime(2026, 11, 30, 8, 10, tzinfo=datetime.UTC), tick=False)
    response = signed_in_thandi.post("/accounts/phone/verify/", {"code": code})
    thandi.refresh_from_db()

    assert response.context["form"].errors == {
        "code": ["That code has expired. Ask for a new one."]
    }
    assert thandi.phone_verified is False


def test_a_new_code_replaces_the_old_one(signed_in_thandi, thandi, sms_outbox):
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})
    first, second = sms_outbox()

    old = signed_in_thandi.post("/accounts/phone/verify/", {"code": code_in(first)})
    new = signed_in_thandi.post("/accounts/phone/verify/", {"code": code_in(second)})

    if code_in(first) != code_in(second):
        assert old.status_code == 200  # refused, shown again
    assert new.status_code == 302
    thandi.refresh_from_db()
    assert thandi.phone_verified is True


def test_sending_codes_is_rate_limited_per_user(signed_in_thandi, sms_outbox):
    for _attempt in range(3):
        signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})

    fourth = signed_in_thandi.post("/accounts/phone/", {"phone": "082 555 0101"})

    assert fourth.status_code == 200
    assert fourth.context["form"].errors == {
        "phone": ["Too many codes were sent. Please wait 15 minutes and try again."]
    }
    assert len(sms_outbox()) == 3


def test_an_invalid_number_is_refused_naming_the_field_and_nothing_is_sent(
    signed_in_thandi, thandi, sms_outbox
):
    response = signed_in_thandi.post("/accounts/phone/", {"phone": "12345"})
    thandi.refresh_from_db()

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert sms_outbox() == []
    assert str(thandi.phone) == ""


def test_johan_gets_his_code_in_afrikaans(client, johan, sms_outbox):
    sign_in(client, "johan")

    client.post("/accounts/phone/", {"phone": "083 555 0102"})
    [sms] = sms_outbox()

    assert sms["language"] == "af"
    assert sms["text"].startswith("Jou MedGuard SA-kode is ")


def test_the_phone_pages_need_a_signed_in_user(client):
    assert client.get("/accounts/phone/")["Location"] == "/accounts/login/?next=/accounts/phone/"
    assert client.post("/accounts/phone/verify/", {"code": "123456"}).status_code == 302


# --- The number changes: by the user, by staff ------------------------------------------------


def test_a_user_who_changes_their_number_becomes_unverified(thandi):
    thandi.set_phone("082 555 0101", verified=True)
    thandi.save()
    user = User.objects.get(pk=thandi.pk)

    user.phone = "082 555 0199"
    user.save()
    user.refresh_from_db()

    assert (str(user.phone), user.phone_verified) == ("+27825550199", False)


def test_saving_other_fields_keeps_a_verified_number_verified(thandi):
    thandi.set_phone("082 555 0101", verified=True)
    thandi.save()
    user = User.objects.get(pk=thandi.pk)

    user.first_name = "Thandiwe"
    user.save()
    user.refresh_from_db()

    assert user.phone_verified is True


def test_a_number_staff_set_in_the_admin_counts_as_verified(admin_client, thandi):
    page = admin_client.get(f"/admin/accounts/user/{thandi.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"groups", "user_permissions"}
    }
    data.update(
        {
            "phone": "082 555 0101",
            "date_joined_0": "2026-11-30",
            "date_joined_1": "08:00:00",
            "last_login_0": "",
            "last_login_1": "",
        }
    )

    response = admin_client.post(f"/admin/accounts/user/{thandi.pk}/change/", data)
    thandi.refresh_from_db()

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert (str(thandi.phone), thandi.phone_verified) == ("+27825550101", True)


# --- The pipeline sends SMS only to verified numbers -----------------------------------------


def _sms_enabled(user):
    from medguard_backend.testing.factories import PreferencesFactory

    PreferencesFactory(user=user, sms_notifications_enabled=True)


def test_no_sms_is_recorded_for_an_unverified_number(thandi):
    _sms_enabled(thandi)
    thandi.set_phone("082 555 0101", verified=False)
    thandi.save()

    result = NotificationService.send_medication_reminder(
        user=thandi, medication_name="Aspirin", dosage="100mg"
    )

    assert result.channels["sms"].queued == 0
    assert result.channels["sms"].skipped_reasons == {"no_address": 1}


def test_a_verified_number_gets_its_sms(thandi, sms_outbox):
    _sms_enabled(thandi)
    thandi.set_phone("082 555 0101", verified=True)
    thandi.save()

    result = NotificationService.send_medication_reminder(
        user=thandi, medication_name="Aspirin", dosage="100mg"
    )
    sms_delivery = Delivery.objects.get(channel="sms")
    send_deliveries([sms_delivery.pk])

    assert result.channels["sms"].queued == 1
    assert [sms["to"] for sms in sms_outbox()] == ["+27825550101"]


def test_a_number_changed_while_the_sms_waits_gets_nothing(thandi, sms_outbox):
    _sms_enabled(thandi)
    thandi.set_phone("082 555 0101", verified=True)
    thandi.save()
    NotificationService.send_medication_reminder(
        user=thandi, medication_name="Aspirin", dosage="100mg"
    )
    changed = User.objects.get(pk=thandi.pk)
    changed.phone = "082 555 0199"
    changed.save()

    send_deliveries([Delivery.objects.get(channel="sms").pk])
    delivery = Delivery.objects.get(channel="sms")

    assert (delivery.status, delivery.last_error) == (DeliveryStatus.SKIPPED, "no_address")
    assert sms_outbox() == []


def test_a_number_changed_through_update_fields_becomes_unverified_too(thandi):
    thandi.set_phone("082 555 0101", verified=True)
    thandi.save()
    user = User.objects.get(pk=thandi.pk)

    user.phone = "082 555 0199"
    user.save(update_fields=["phone"])
    user.refresh_from_db()

    assert (str(user.phone), user.phone_verified) == ("+27825550199", False)
