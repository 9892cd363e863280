from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField


class PhoneNumberForm(forms.Form):
    phone = PhoneNumberField(
        label=_("Mobile number"),
        region="ZA",
        help_text=_("We will text a code to this number. A South African number may start with 0."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 8}
        ),
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)


class SignInForm(LoginForm):
    """allauth's sign-in form with labels that say what to type (no placeholders standing
    in for labels: they vanish while typing)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Username or email address")
        login.widget.attrs.pop("placeholder", None)
        login.widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs.pop("placeholder", None)
        if "remember" in self.fields:
            self.fields["remember"].label = _("Keep me signed in on this device")
