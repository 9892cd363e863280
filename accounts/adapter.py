"""How django-allauth fits this product: accounts are created by clinic staff, and every
email it sends is written in the recipient's own language."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from notifications.rendering.messages import language_of


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.ACCOUNT_ALLOW_SIGNUP)

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # A password reset is asked for while signed out, in whatever language the browser
        # prefers; the email goes to the account's owner, in the language they chose.
        user = context.get("user")
        language = language_of(user) if user is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
