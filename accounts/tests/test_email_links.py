"""Password reset and email confirmation, each followed from the email that really arrived
at a real SMTP server."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress

from .conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/accounts/\S+/)")


def only_link(message) -> str:
    body = message.get_body(("plain",)).get_content()
    links = LINK.findall(body)
    assert len(links) == 1, body
    return links[0]


def test_a_forgotten_password_is_reset_from_the_link_in_the_email(client, thandi, smtp_server):
    asked = client.post("/accounts/password/reset/", {"email": "thandi@example.org"})
    [message] = smtp_server.wait_for(1)
    link = only_link(message)

    opened = client.get(link, follow=True)
    form_url = opened.redirect_chain[-1][0]
    saved = client.post(
        form_url, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )

    assert asked["Location"] == "/accounts/password/reset/done/"
    assert message["To"] == "thandi@example.org"
    assert message["Subject"] == "MedGuard SA: Choose a new password"
    assert "Your username is thandi." in message.get_body(("plain",)).get_content()
    assert opened.status_code == 200
    assert 'name="password1"' in opened.content.decode()
    assert saved["Location"] == "/accounts/password/reset/key/done/"
    assert sign_in(client, "thandi", PASSWORD).status_code == 200  # the old one is refused
    assert sign_in(client, "thandi", "a-new-long-password-7")["Location"] == "/notifications/"


def test_a_reset_link_works_once(client, thandi, smtp_server):
    client.post("/accounts/password/reset/", {"email": "thandi@example.org"})
    link = only_link(smtp_server.wait_for(1)[0])
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(
        form_url, {"password1": "a-new-long-password-7", "password2": "a-new-long-password-7"}
    )

    again = client.get(link, follow=True)

    assert "This link is no longer valid" in again.content.decode()
    assert 'name="password1"' not in again.content.decode()


def test_the_reset_email_is_in_the_account_owners_language(client, johan, smtp_server):
    client.post(
        "/accounts/password/reset/", {"email": "johan@example.org"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    [message] = smtp_server.wait_for(1)

    assert message["Subject"] == "MedGuard SA: Kies \u2019n nuwe wagwoord"
    assert "Hallo Johan," in message.get_body(("plain",)).get_content()


def test_an_unknown_address_learns_nothing_on_the_page_and_no_reset_link_is_sent(
    client, thandi, smtp_server
):
    known = client.post("/accounts/password/reset/", {"email": "thandi@example.org"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    messages = smtp_server.wait_for(2)

    assert known["Location"] == unknown["Location"] == "/accounts/password/reset/done/"
    to_nobody = next(m for m in messages if m["To"] == "nobody@example.org")
    assert "/accounts/password/reset/key/" not in to_nobody.get_body(("plain",)).get_content()


def test_an_email_address_is_confirmed_from_the_link_in_the_email(client, thandi, smtp_server):
    sign_in(client, "thandi")

    page = client.get("/accounts/email/")
    client.post("/accounts/email/", {"action_send": "", "email": "thandi@example.org"})
    [message] = smtp_server.wait_for(1)
    link = only_link(message)
    confirm_page = client.get(link)
    confirmed = client.post(link, follow=True)

    assert "Not confirmed" in page.content.decode()
    assert message["Subject"] == "MedGuard SA: Confirm your email address"
    assert "thandi@example.org" in confirm_page.content.decode()
    assert "Your email address is confirmed." in confirmed.content.decode()
    assert EmailAddress.objects.get(user=thandi).verified is True
