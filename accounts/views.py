"""The pages of one's own account that allauth does not provide: the home page's
redirect, the language switch and phone verification. They validate and call the
services in phones.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import may_see_dashboard
from notifications.channels import TransportError

from . import phones
from .forms import LanguageForm, PhoneCodeForm, PhoneNumberForm
from .middleware import remember_language

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User


def landing_url(user: User | AnonymousUser) -> str:
    """Where a person starts: staff and healthcare providers on the clinic dashboard,
    everyone else in their inbox, a visitor at the sign-in page."""
    if not user.is_authenticated:
        return reverse("account_login")
    if may_see_dashboard(user):
        return reverse("clinic:dashboard")
    return reverse("notifications-web:inbox")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect(landing_url(request.user))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch. A signed-in user's choice is saved as their
    preferred language (emails and SMS follow it too); a visitor's is kept in a cookie."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(
            _("There is no language “%(value)s”: choose English or Afrikaans.")
            % {"value": request.POST.get("language", "")[:20]},
            content_type="text/plain; charset=utf-8",
        )
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        request.user.preferred_language = language
        request.user.save(update_fields=["preferred_language"])
    response = HttpResponseRedirect(next_url)
    remember_language(response, language)
    return response


def _never_cached(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def _next_page(request: HttpRequest) -> str:
    """Where to go once the number is verified (a caregiver invitation sent to it, say):
    a page of this site only, else nowhere."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


def _with_next(url: str, next_page: str) -> str:
    return f"{url}?{urlencode({'next': next_page})}" if next_page else url


@require_http_methods(["GET", "POST"])
@login_required
def phone_page(request: HttpRequest) -> HttpResponse:
    """Enter (or change) one's mobile number; a code is texted to it."""
    user = cast("User", request.user)
    next_page = _next_page(request)
    form = PhoneNumberForm(request.POST or None, initial={"phone": user.phone or None})
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["phone"]
        if user.phone_verified and str(number) == str(user.phone):
            form.add_error("phone", _("This number is already verified."))
        elif not ratelimit.consume(request, action="send_phone_code", user=user):
            form.add_error(
                "phone", _("Too many codes were sent. Please wait 15 minutes and try again.")
            )
        else:
            try:
                phones.send_code(user, number)
            except TransportError:
                form.add_error("phone", _("We could not send a text message to this number."))
            else:
                messages.success(request, _("We have sent a code to your phone."))
                return redirect(_with_next(reverse("accounts:phone-verify"), next_page))
    return _never_cached(
        render(
            request,
            "accounts/phone.html",
            {"form": form, "active": "account", "next": next_page},
        )
    )


_OUTCOME_MESSAGES = {
    phones.Outcome.WRONG_CODE: lambda: _("That code is not right. Check the SMS and try again."),
    phones.Outcome.EXPIRED: lambda: _("That code has expired. Ask for a new one."),
    phones.Outcome.TOO_MANY_ATTEMPTS: lambda: _("Too many wrong codes. Ask for a new one."),
    phones.Outcome.NO_CODE: lambda: _("There is no code waiting. Ask for a new one."),
}


@require_http_methods(["GET", "POST"])
@login_required
def phone_verify_page(request: HttpRequest) -> HttpResponse:
    """Type back the code texted to the number."""
    user = cast("User", request.user)
    next_page = _next_page(request)
    form = PhoneCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = phones.confirm_code(user, form.cleaned_data["code"])
        if outcome is phones.Outcome.VERIFIED:
            messages.success(request, _("Your phone number is verified."))
            return redirect(next_page or "accounts:phone")
        form.add_error("code", _OUTCOME_MESSAGES[outcome]())
    context = {
        "form": form,
        "pending": phones.pending_verification(user),
        "active": "account",
        "next": next_page,
    }
    return _never_cached(render(request, "accounts/phone_verify.html", context))
