"""The inbox, one notification, and the preferences form, for a signed-in user.

Each page is rendered inside the user's own language and time zone (not the browser's):
the links come from emails written in that language, and times must read as the
reminders do. Changes go through the same services as the API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications.api.base import MAX_ID
from notifications.api.i18n import language_of
from notifications.api.inbox_items import render_items
from notifications.api.preferences import save_preferences
from notifications.inbox import states as inbox
from notifications.models import NotificationRecipient
from notifications.policy.preferences import get_preferences

from .forms import PreferencesForm

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 20

View = Callable[..., HttpResponse]


def in_users_locale(view: View) -> View:
    """Render ``view`` in the signed-in user's language and time zone."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = cast("User", request.user)
        language = language_of(user)
        with translation.override(language), timezone.override(user.timezone):
            request.LANGUAGE_CODE = language
            response = view(request, *args, **kwargs)
            # The body is rendered here, inside the user's locale (render() already did).
            response["Content-Language"] = language
        # Someone's medication notifications: never kept by a proxy or a shared browser.
        add_never_cache_headers(response)
        return response

    return wrapped


def _changed(
    change: Callable[[int, int], NotificationRecipient], user: User, notification_id: int
) -> NotificationRecipient:
    """``change`` applied to the user's own copy; someone else's notification is a 404."""
    if notification_id > MAX_ID:
        raise Http404
    try:
        return change(user.pk, notification_id)
    except NotificationRecipient.DoesNotExist:
        raise Http404 from None


@require_GET
@login_required
@in_users_locale
def inbox_page(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)
    recipients = inbox.inbox(user.pk)
    page = Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/web/inbox.html",
        {"page": page, "items": render_items(page.object_list, user), "active": "inbox"},
    )


@require_GET
@login_required
@in_users_locale
def notification_page(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Opening a notification marks it read (the email link is how most are opened)."""
    user = cast("User", request.user)
    recipient = _changed(inbox.mark_read, user, notification_id)
    (item,) = render_items([recipient], user)
    return render(request, "notifications/web/detail.html", {"item": item, "active": "inbox"})


def _state_change(
    change: Callable[[int, int], NotificationRecipient], done: Callable[[], str]
) -> View:
    @require_POST
    @login_required
    @in_users_locale
    def view(request: HttpRequest, notification_id: int) -> HttpResponse:
        user = cast("User", request.user)
        try:
            _changed(change, user, notification_id)
        except inbox.StateChangeRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, done())
        return redirect("notifications-web:detail", notification_id=notification_id)

    return view


acknowledge = _state_change(inbox.acknowledge, lambda: _("Acknowledged. Thank you."))
dismiss = _state_change(inbox.dismiss, lambda: _("Dismissed."))


@require_http_methods(["GET", "POST"])
@login_required
@in_users_locale
def preferences_page(request: HttpRequest) -> HttpResponse:
    user = cast("User", request.user)
    form = PreferencesForm(request.POST or None, instance=get_preferences(user.pk))
    if request.method == "POST" and form.is_valid():
        try:
            save_preferences(user.pk, {name: form.cleaned_data[name] for name in form.fields})
        except ValidationError as error:
            # Another device saved in between and the two together break a rule.
            form.add_error(None, error)
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("notifications-web:preferences")
    return render(
        request, "notifications/web/preferences.html", {"form": form, "active": "preferences"}
    )
