"""How django-allauth fits this product: accounts are created by clinic staff, and every
email it sends is written in the recipient's own language."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from notifications.rendering.messages import language_of


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.ACCOUNT_ALLOW_SIGNUP)

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        # Staff create accounts in the admin, which knows nothing of allauth's address
        # book: list the account's address (unconfirmed) so the email page can confirm it.
        if user.email and not EmailAddress.objects.filter(user=user).exists():
            EmailAddress.objects.get_or_create(
                user=user, email=user.email.lower(), defaults={"primary": True, "verified": False}
            )

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # Straight to where the person starts (the "/" redirect would cost a round trip).
        from .views import landing_url

        return landing_url(request.user)

    def add_message(
        self,
        request: HttpRequest,
        level: int,
        message_template: str | None = None,
        message_context: dict[str, Any] | None = None,
        extra_tags: str = "",
        message: str | None = None,
    ) -> None:
        # "Welcome" is written while the person is still a visitor (in the browser's
        # language) and read on their first page (in their own).
        user = (message_context or {}).get("user")
        language = language_of(user) if user is not None else translation.get_language()
        with translation.override(language):
            super().add_message(
                request, level, message_template, message_context, extra_tags, message
            )

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # A password reset is asked for while signed out, in whatever language the browser
        # prefers; the email goes to the account's owner, in the language they chose.
        user = context.get("user")
        language = language_of(user) if user is not None else translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
