"""The "My data" page: consent per purpose (give or withdraw with one button), a copy of
everything held (the export), and erasing the account with the password typed again.
Changes go through the same services as the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from notifications.web.views import in_users_locale
from privacy.models import ConsentMethod, ErasureRecord, Purpose
from privacy.services import audit
from privacy.services.consent import current_consents, record_consent
from privacy.services.erasure import erase_person

if TYPE_CHECKING:
    from accounts.models import User

app_name = "privacy-web"


class ErasureForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password, to confirm"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _page(request: HttpRequest, erasure: ErasureForm, status: int = 200) -> HttpResponse:
    user = cast("User", request.user)
    labels = dict(Purpose.choices)
    consents = [(state, labels[state.purpose]) for state in current_consents(user)]
    context = {"consents": consents, "erasure": erasure, "active": "my-data"}
    return render(request, "privacy/my_data.html", context, status=status)


@login_required
@in_users_locale
@require_http_methods(["GET"])
def my_data_page(request: HttpRequest) -> HttpResponse:
    return _page(request, ErasureForm())


@login_required
@in_users_locale
@require_POST
def consent_answer(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)
    granted = request.POST.get("granted") == "true"
    try:
        record_consent(
            user,
            purpose=request.POST.get("purpose", ""),
            granted=granted,
            method=ConsentMethod.WEB,
            wording_version=request.POST.get("wording_version", ""),
            actor=user,
            ip_address=audit.client_ip(request),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Thank you: your consent is recorded.") if granted else _("Withdrawn.")
        )
    return redirect("privacy-web:my-data")


@login_required
@in_users_locale
@require_POST
def erase(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)
    form = ErasureForm(request.POST)
    if form.is_valid() and not user.check_password(form.cleaned_data["password"]):
        form.add_error("password", _("That is not your password."))
    if not form.is_valid():
        return _page(request, form, status=400)
    erase_person(user, method=ErasureRecord.Method.SELF)
    logout(request)
    return render(request, "privacy/erased.html")


urlpatterns = [
    path("", my_data_page, name="my-data"),
    path("consent/", consent_answer, name="consent"),
    path("erase/", erase, name="erase"),
]
