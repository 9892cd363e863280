"""Whether a user can be reached by SMS: a phone number counts once it is verified."""

from __future__ import annotations

import pytest

from notifications.policy.addresses import sms_reachable


@pytest.mark.parametrize(
    ("phone", "verified", "reachable"),
    [
        ("+27825550101", True, True),
        ("+27825550101", False, False),
        ("", True, False),
        ("", False, False),
        (None, True, False),
    ],
)
def test_a_phone_number_is_an_sms_address_only_once_verified(phone, verified, reachable):
    assert sms_reachable(phone, verified) is reachable
