"""Fixtures for the privacy tests: people in each role and API clients signed in as them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from medguard_backend.testing.factories import UserFactory, api_token


@pytest.fixture
def patient(db):
    return UserFactory(
        username="thandi", first_name="Thandiwe", last_name="Mokoena", phone="+27825550147"
    )


@pytest.fixture
def caregiver(db):
    return UserFactory(username="lerato", first_name="Lerato", user_type="caregiver")


@pytest.fixture
def staff_member(db):
    return UserFactory(username="sipho", first_name="Sipho", user_type="staff", is_staff=True)


@pytest.fixture
def api_client_for(db) -> Callable[..., APIClient]:
    """``api_client_for(user)``: a client sending that user's token. Throttle counters (in
    the cache) start from zero in every test."""
    cache.clear()

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client

    return make
