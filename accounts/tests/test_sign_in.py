"""Signing in and out at /accounts/, with the password typed (never force_login)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from .conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def test_a_patient_signs_in_with_username_and_lands_where_the_link_pointed(client, thandi):
    asked = client.get("/notifications/preferences/")
    assert asked.status_code == 302
    assert asked["Location"] == "/accounts/login/?next=/notifications/preferences/"

    page = client.get(asked["Location"])
    response = client.post(
        "/accounts/login/",
        {"login": "thandi", "password": PASSWORD, "next": "/notifications/preferences/"},
    )

    assert page.status_code == 200
    assert 'name="login"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/notifications/preferences/"
    assert client.get("/notifications/preferences/").status_code == 200


def test_a_patient_signs_in_with_their_email_address_too(client, thandi):
    response = sign_in(client, "Thandi@Example.org")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert client.get("/notifications/").context["user"] == thandi


def test_a_staff_created_account_is_not_held_back_by_an_unverified_email(client, thandi):
    assert not EmailAddress.objects.filter(user=thandi, verified=True).exists()

    response = sign_in(client, "thandi")

    assert response["Location"] == "/notifications/"
    assert client.get("/notifications/").status_code == 200


def test_a_wrong_password_is_refused_on_the_page(client, thandi):
    response = sign_in(client, "thandi", "not-her-password")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The username and/or password you specified are not correct."
    ]
    assert client.get("/notifications/").status_code == 302


def test_five_wrong_passwords_lock_the_account_even_from_another_address(client, thandi):
    for _attempt in range(5):
        assert sign_in(client, "thandi", "guess").status_code == 200

    locked = sign_in(client, "thandi", PASSWORD, REMOTE_ADDR="10.9.8.7")

    assert locked.status_code == 200
    assert locked.context["form"].non_field_errors() == [
        "Too many failed login attempts. Try again later."
    ]
    assert client.get("/notifications/").status_code == 302


def test_a_lockout_of_one_account_leaves_the_others_alone(client, thandi, johan):
    for _attempt in range(5):
        sign_in(client, "thandi", "guess")

    response = sign_in(client, "johan")

    assert response.status_code == 302
    assert client.get("/notifications/").context["user"] == johan


def test_signing_out_takes_a_post_and_a_get_only_asks(client, thandi):
    sign_in(client, "thandi")

    asked = client.get("/accounts/logout/")
    still_in = client.get("/notifications/")
    signed_out = client.post("/accounts/logout/")
    after = client.get("/notifications/")

    assert asked.status_code == 200
    assert 'action="/accounts/logout/"' in asked.content.decode()
    assert still_in.status_code == 200
    assert signed_out.status_code == 302
    assert signed_out["Location"] == "/accounts/login/"
    assert after.status_code == 302


def test_the_header_names_the_user_and_has_a_sign_out_button(client, thandi):
    sign_in(client, "thandi")

    html = client.get("/notifications/").content.decode()

    assert '<span class="who">Thandi Mokoena</span>' in html
    assert '<form method="post" action="/accounts/logout/">' in html


def test_sign_in_needs_the_csrf_token(client, thandi):
    client.handler.enforce_csrf_checks = True

    response = sign_in(client, "thandi")

    assert response.status_code == 403
    client.handler.enforce_csrf_checks = False
    assert client.get("/notifications/").status_code == 302


# --- Where / leads ------------------------------------------------------------------------------


def test_the_home_page_sends_a_visitor_to_sign_in(client):
    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")


def test_the_home_page_sends_a_patient_to_their_inbox(client, thandi):
    sign_in(client, "thandi")

    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, "/notifications/")


def test_the_home_page_sends_staff_to_the_clinic_dashboard(client, clinic_staff):
    sign_in(client, "sipho")

    response = client.get("/", follow=True)

    assert response.redirect_chain == [("/staff/", 302)]
    assert response.status_code == 200


def test_signing_in_without_a_next_page_goes_to_the_inbox_with_a_welcome(client, thandi):
    response = client.post(
        "/accounts/login/", {"login": "thandi", "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain == [("/notifications/", 302)]
    assert "Welcome, Thandi." in response.content.decode()


def test_staff_signing_in_without_a_next_page_go_to_the_clinic_dashboard(client, clinic_staff):
    response = sign_in(client, "sipho")

    assert response["Location"] == "/staff/"


# --- Language ---------------------------------------------------------------------------------


def test_a_visitor_gets_the_sign_in_page_in_their_browsers_language(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="af")

    assert response["Content-Language"] == "af"
    assert "<h1>Meld aan</h1>" in response.content.decode()


def test_a_visitor_switches_the_sign_in_page_to_afrikaans(client):
    switched = client.post(
        "/accounts/language/", {"language": "af", "next": "/accounts/login/"}, follow=True
    )

    assert switched.redirect_chain == [("/accounts/login/", 302)]
    assert "<h1>Meld aan</h1>" in switched.content.decode()


def test_the_language_switch_saves_a_signed_in_users_choice(client, thandi):
    sign_in(client, "thandi")

    client.post("/accounts/language/", {"language": "af", "next": "/notifications/"})
    thandi.refresh_from_db()
    inbox = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en")

    assert thandi.preferred_language == "af"
    assert inbox["Content-Language"] == "af"


def test_the_language_switch_refuses_an_unknown_language_naming_it(client, thandi):
    sign_in(client, "thandi")

    response = client.post("/accounts/language/", {"language": "xx", "next": "/notifications/"})
    thandi.refresh_from_db()

    assert response.status_code == 400
    assert response.content.decode() == (
        "There is no language \u201cxx\u201d: choose English or Afrikaans."
    )
    assert thandi.preferred_language == "en"


def test_the_language_switch_never_leads_to_another_site(client):
    response = client.post(
        "/accounts/language/", {"language": "af", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_johans_pages_are_afrikaans_whatever_his_browser_says(client, johan):
    sign_in(client, "johan", HTTP_ACCEPT_LANGUAGE="en")

    page = client.get("/accounts/phone/", HTTP_ACCEPT_LANGUAGE="en")

    assert page["Content-Language"] == "af"
    assert "<h1>Selfoonnommer</h1>" in page.content.decode()
    assert page.cookies["django_language"].value == "af"


def test_the_api_keeps_answering_in_the_language_the_client_asks_for(client, johan):
    sign_in(client, "johan")

    response = client.get("/api/notifications/unread-count/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Language"] == "en"


def test_too_many_sign_in_requests_from_one_address_get_a_429_page(client, thandi, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    sign_in(client, "thandi", "guess")
    sign_in(client, "thandi", "guess")

    refused = sign_in(client, "thandi", HTTP_ACCEPT_LANGUAGE="af")

    assert refused.status_code == 429
    assert "<h1>Te veel pogings</h1>" in refused.content.decode()
    assert client.get("/notifications/").status_code == 302
