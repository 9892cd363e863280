"""Every sign-in and account page reads in Afrikaans: no string is left in English.

Each page is rendered twice, for the same person in English and in Afrikaans; any text
(or label, placeholder, button) that comes out the same in both was not translated.
allauth ships no Afrikaans catalogue, so its strings that these pages show are translated
in locale/af.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.test import Client

from accounts.models import User

from .conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db

# The same in both languages on purpose: names, the brand, the language switch, numbers.
SAME_IN_BOTH = {
    "MedGuard SA",
    "English",
    "Afrikaans",
    "Thandi Mokoena",
    "thandi",
    "thandi@example.org",
    "Your address: thandi@example.org",
    "·",
    "+27825550101",
    "OK",
}


class VisibleText(HTMLParser):
    """Text a person sees or hears: text nodes, and labels carried by attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.strings: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "title"):
            self._skip += 1
        values = dict(attrs)
        for name in ("placeholder", "aria-label", "title", "alt"):
            if values.get(name):
                self.strings.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.strings.append(text)


def visible_text(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    strings = set(parser.strings)
    if title:
        strings.add(" ".join(title.group(1).split()).removesuffix(" · MedGuard SA"))
    return {s.rstrip(":") for s in strings if not re.fullmatch(r"[\W\d]*", s)}


def as_visitor(language: str) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def as_thandi(language: str) -> Client:
    User.objects.filter(username="thandi").update(preferred_language=language)
    client = Client()
    sign_in(client, "thandi")
    return client


def reset_link_page(client: Client, smtp_server) -> str:
    client.post("/accounts/password/reset/", {"email": "thandi@example.org"})
    message = smtp_server.wait_for(1)[-1]
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", body).group(1)
    smtp_server._messages.clear()
    return client.get(link, follow=True).redirect_chain[-1][0]


Page = Callable[[Client], str]

VISITOR_PAGES: dict[str, Page] = {
    "sign-in": lambda c: c.get("/accounts/login/").content.decode(),
    "wrong password": lambda c: sign_in(c, "thandi", "guess").content.decode(),
    "missing fields": lambda c: c.post("/accounts/login/", {}).content.decode(),
    "password reset": lambda c: c.get("/accounts/password/reset/").content.decode(),
    "bad email": lambda c: c.post("/accounts/password/reset/", {"email": "x"}).content.decode(),
    "reset sent": lambda c: c.get("/accounts/password/reset/done/").content.decode(),
    "dead reset link": lambda c: c.get(
        "/accounts/password/reset/key/2-nope/", follow=True
    ).content.decode(),
    "reset done": lambda c: c.get("/accounts/password/reset/key/done/").content.decode(),
    "sign-up closed": lambda c: c.get("/accounts/signup/").content.decode(),
    "inactive": lambda c: c.get("/accounts/inactive/").content.decode(),
}

SIGNED_IN_PAGES: dict[str, Page] = {
    "inbox header": lambda c: c.get("/notifications/").content.decode(),
    "sign-out": lambda c: c.get("/accounts/logout/").content.decode(),
    "email": lambda c: c.get("/accounts/email/").content.decode(),
    "email taken": lambda c: c.post(
        "/accounts/email/", {"action_add": "", "email": "someone@example.org"}
    ).content.decode(),
    "password change": lambda c: c.get("/accounts/password/change/").content.decode(),
    "password change errors": lambda c: c.post(
        "/accounts/password/change/",
        {"oldpassword": "guess", "password1": "123", "password2": "1234"},
    ).content.decode(),
    "password too similar": lambda c: c.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "thandimokoena", "password2": "thandimokoena"},
    ).content.decode(),
    "reauthenticate": lambda c: c.post(
        "/accounts/reauthenticate/", {"password": "guess"}
    ).content.decode(),
    "phone": lambda c: c.get("/accounts/phone/").content.decode(),
    "phone invalid": lambda c: c.post("/accounts/phone/", {"phone": "123"}).content.decode(),
    "phone code": lambda c: c.post("/accounts/phone/verify/", {"code": "12"}).content.decode(),
    "phone no code": lambda c: c.post(
        "/accounts/phone/verify/", {"code": "123456"}
    ).content.decode(),
    "email sent": lambda c: c.get("/accounts/confirm-email/").content.decode(),
    "dead confirmation link": lambda c: c.get("/accounts/confirm-email/nope/").content.decode(),
    "signed out": lambda c: c.post("/accounts/logout/", follow=True).content.decode(),
}


def untranslated(english: str, afrikaans: str) -> set[str]:
    return (visible_text(english) & visible_text(afrikaans)) - SAME_IN_BOTH


@pytest.mark.parametrize("page", VISITOR_PAGES, ids=str)
def test_a_visitor_reads_every_sign_in_page_in_afrikaans(page, thandi):
    User.objects.create_user("someone", "someone@example.org", "x-long-password-1")
    english = VISITOR_PAGES[page](as_visitor("en"))
    afrikaans = VISITOR_PAGES[page](as_visitor("af"))

    assert '<html lang="af">' in afrikaans
    assert untranslated(english, afrikaans) == set()


@pytest.mark.parametrize("page", SIGNED_IN_PAGES, ids=str)
def test_a_signed_in_user_reads_every_account_page_in_afrikaans(page, thandi):
    User.objects.create_user("someone", "someone@example.org", "x-long-password-1")
    thandi.set_phone("082 555 0101", verified=False)
    thandi.save()
    english = SIGNED_IN_PAGES[page](as_thandi("en"))
    afrikaans = SIGNED_IN_PAGES[page](as_thandi("af"))

    assert '<html lang="af">' in afrikaans
    assert untranslated(english, afrikaans) == set()


def test_the_reset_link_page_and_its_errors_read_in_afrikaans(thandi, smtp_server):
    english_client, afrikaans_client = as_visitor("en"), as_visitor("af")
    english_form = reset_link_page(english_client, smtp_server)
    afrikaans_form = reset_link_page(afrikaans_client, smtp_server)
    bad = {"password1": "1234", "password2": "12345"}

    english = english_client.post(english_form, bad).content.decode()
    afrikaans = afrikaans_client.post(afrikaans_form, bad).content.decode()

    assert 'name="password1"' in afrikaans
    assert untranslated(english, afrikaans) == set()


def test_the_lockout_message_reads_in_afrikaans(thandi):
    english_client, afrikaans_client = as_visitor("en"), as_visitor("af")
    for _attempt in range(5):
        sign_in(english_client, "thandi", "guess")

    english = sign_in(english_client, "thandi", "guess").content.decode()
    afrikaans = sign_in(afrikaans_client, "thandi", "guess").content.decode()

    assert "Too many failed login attempts" in english
    assert untranslated(english, afrikaans) == set()
