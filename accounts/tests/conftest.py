"""People who sign in with the password they were given, as the demo's do."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from medguard_backend.testing.factories import UserFactory

PASSWORD = "long-test-password-1"  # UserFactory's


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Sign-in rate limits are counted in the cache: each test starts from zero."""
    cache.clear()


@pytest.fixture
def thandi(db):
    return UserFactory(
        username="thandi", first_name="Thandi", last_name="Mokoena", email="thandi@example.org"
    )


@pytest.fixture
def johan(db):
    return UserFactory(
        username="johan",
        first_name="Johan",
        last_name="van der Merwe",
        email="johan@example.org",
        preferred_language="af",
    )


@pytest.fixture
def clinic_staff(db):
    return UserFactory(username="sipho", first_name="Sipho", user_type="staff", is_staff=True)


def sign_in(client, login: str, password: str = PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": login, "password": password}, **extra)
