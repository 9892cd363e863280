"""Hashed, expiring API tokens; the list of my devices; signing out one or everywhere;
password rules that work offline."""

from __future__ import annotations

import datetime
import socket

import pytest
import time_machine
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from medguard_backend.testing.factories import api_token

from .test_erasure import clear_columns_containing

UNREAD = "/api/notifications/unread-count/"


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_an_expired_token_is_refused(patient) -> None:
    token = api_token(patient)
    assert client_with(token).get(UNREAD).status_code == 200
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))

    response = client_with(token).get(UNREAD)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_a_token_differing_in_its_last_character_is_refused(patient) -> None:
    token = api_token(patient)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert client_with(forged).get(UNREAD).status_code == 401


def test_my_devices_are_listed_and_one_can_be_signed_out(patient) -> None:
    phone, tablet = api_token(patient), api_token(patient)

    listed = client_with(phone).get("/api/me/sign-ins/").json()

    assert len(listed) == 2
    assert [entry["current"] for entry in listed].count(True) == 1
    other = next(entry for entry in listed if not entry["current"])
    assert tablet not in str(listed)
    assert phone not in str(listed)
    assert client_with(phone).delete(f"/api/me/sign-ins/{other['id']}/").status_code == 204
    assert client_with(tablet).get(UNREAD).status_code == 401
    assert client_with(phone).get(UNREAD).status_code == 200
    assert client_with(phone).delete(f"/api/me/sign-ins/{other['id']}/").status_code == 404


def test_signing_out_everywhere_ends_every_token_and_web_session(patient, caregiver) -> None:
    phone = api_token(patient)
    browser = Client()
    browser.force_login(patient)
    someone_else = Client()
    someone_else.force_login(caregiver)
    caregivers_token = api_token(caregiver)

    assert client_with(phone).post("/api/me/sign-out-everywhere/").status_code == 204

    assert client_with(phone).get(UNREAD).status_code == 401
    assert not AuthToken.objects.filter(user=patient).exists()
    assert browser.get("/notifications/").status_code == 302  # back to the sign-in page
    assert Session.objects.count() == 1  # the caregiver's
    assert someone_else.get("/notifications/").status_code == 200
    assert client_with(caregivers_token).get(UNREAD).status_code == 200


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: the check must work offline."""

    def refuse(*args, **kwargs):
        raise AssertionError("the password check tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("password", ["iloveyou12", "password123", "qwertyuiop"])
def test_a_breached_password_is_refused_offline(password, no_network) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert "This password is too common." in refused.value.messages


def test_changing_to_a_breached_or_short_password_is_refused(patient, no_network) -> None:
    form = SetPasswordForm(patient, {"new_password1": "sunshine1", "new_password2": "sunshine1"})
    assert not form.is_valid()
    assert form.errors["new_password2"] == [
        "This password is too short. It must contain at least 10 characters.",
        "This password is too common.",
    ]


def test_a_token_is_stored_only_as_its_digest(patient) -> None:
    token = api_token(patient)

    assert client_with(token).get(UNREAD).status_code == 200
    # Every column of every table, as its raw stored text: the token is in none of them
    # (knox keeps a SHA-512 digest, and a short prefix to find it by).
    assert clear_columns_containing(token) == []


def test_a_web_session_ends_after_its_age_even_with_the_browser_left_open(
    patient, settings
) -> None:
    client = Client()
    client.force_login(patient)
    assert client.get("/my-data/").status_code == 200
    later = timezone.now() + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)

    with time_machine.travel(later):
        response = client.get("/my-data/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
