from __future__ import annotations

import zoneinfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

User = get_user_model()
pytestmark = pytest.mark.django_db


def make_user(**fields: object):
    user = User(username="thandi", email="thandi@example.org", **fields)
    user.set_unusable_password()
    return user


def test_defaults_are_a_south_african_english_patient() -> None:
    user = make_user()
    user.full_clean()
    user.save()
    user.refresh_from_db()

    assert user.user_type == "patient"
    assert user.preferred_language == "en"
    assert user.timezone == zoneinfo.ZoneInfo("Africa/Johannesburg")


@pytest.mark.parametrize("local", ["082 123 4567", "0821234567", "+27 82 123 4567"])
def test_local_south_african_numbers_are_stored_in_e164(local: str) -> None:
    user = make_user(phone=local)
    user.full_clean()
    user.save()
    user.refresh_from_db()

    assert str(user.phone) == "+27821234567"


def test_an_invalid_phone_number_is_rejected_naming_the_field() -> None:
    user = make_user(phone="12345")
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert set(error.value.message_dict) == {"phone"}


def test_an_unknown_time_zone_is_rejected_naming_the_value() -> None:
    user = make_user()
    with pytest.raises(ValidationError) as error:
        user.timezone = "Africa/Atlantis"
    assert "Africa/Atlantis" in str(error.value)


@pytest.mark.parametrize("field", ["user_type", "preferred_language"])
def test_choices_outside_the_list_are_rejected(field: str) -> None:
    user = make_user(**{field: "pirate"})
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert set(error.value.message_dict) == {field}


def test_user_types_include_staff_as_the_seed_targets_them() -> None:
    assert set(User.UserType.values) == {"patient", "caregiver", "healthcare_provider", "staff"}
