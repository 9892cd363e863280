"""Fixtures of the medications API tests: two patients and token clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from medguard_backend.testing.factories import UserFactory, api_token


@pytest.fixture
def patient(db: None) -> Any:
    return UserFactory(username="thandi", first_name="Thandi")


@pytest.fixture
def other_patient(db: None) -> Any:
    return UserFactory(username="johan", first_name="Johan", preferred_language="af")


@pytest.fixture
def client_for(db: None) -> Callable[..., APIClient]:
    """A client sending that user's token (anonymous without one); throttle counters, in
    the cache, start from zero."""
    cache.clear()

    def make(user: Any = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client

    return make
