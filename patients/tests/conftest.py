from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from medguard_backend.testing.factories import UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The unread counts and sign-in budgets live in the cache: every test starts from zero.
    cache.clear()


@pytest.fixture
def patient(db: None) -> Any:
    return UserFactory(username="thandi", first_name="Thandi", last_name="Nkosi")


@pytest.fixture
def other_patient(db: None) -> Any:
    return UserFactory(username="johan", first_name="Johan", preferred_language="af")


@pytest.fixture
def signed_in(client: Any, patient: Any) -> Any:
    client.force_login(patient)
    return client
