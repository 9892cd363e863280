"""The patient's "Today" page and the one-tap dose buttons. Each button is a plain form
POST that redirects back to the page with a message (so it works without JavaScript and a
reload does not repeat it); the change itself is ``medications.doses``'."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from medications import doses
from medications.api.supply_items import active_supplies, supply_items
from medications.models import Dose, Schedule

from . import today as days
from .pages import me, personal_page

ACTIONS: dict[str, Callable[..., Dose]] = {
    "take": doses.take_dose,
    "skip": doses.skip_dose,
    "snooze": doses.snooze_dose,
}


def _done_message(action: str, dose: Dose) -> str:
    if action == "take":
        return _("Dose recorded as taken.")
    if action == "skip":
        return _("Dose recorded as skipped.")
    assert dose.snoozed_until is not None  # noqa: S101 - snooze_dose sets it
    # Rendered inside the user's time zone (personal_page): their clock, not the server's.
    return _("We will remind you again at %(time)s.") % {
        "time": timezone.localtime(dose.snoozed_until).strftime("%H:%M")
    }


@require_GET
@personal_page
def today_page(request: HttpRequest) -> HttpResponse:
    user = me(request)
    day = days.local_today(user)
    return render(
        request,
        "patients/today.html",
        {
            "active": "today",
            "day": day,
            "doses": days.day_doses(user, day),
            "medicines": supply_items(active_supplies(user.pk), day),
        },
    )


def _act(request: HttpRequest, action: str, dose_id: int) -> HttpResponse:
    try:
        dose = ACTIONS[action](dose_id, by=me(request))
    except Dose.DoesNotExist:
        raise Http404 from None
    except doses.DoseStateError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _done_message(action, dose))
    return redirect("patients:today")


@require_POST
@personal_page
def dose_action(request: HttpRequest, dose_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    return _act(request, action, dose_id)


@require_POST
@personal_page
def upcoming_dose_action(request: HttpRequest, schedule_id: int, action: str) -> HttpResponse:
    """Take or skip a dose whose reminder has not gone out yet (its time is in the form)."""
    if action not in ("take", "skip"):
        raise Http404
    try:
        when = datetime.datetime.fromisoformat(request.POST.get("due_at", ""))
        if when.tzinfo is None:
            raise ValueError("naive")
        dose = days.dose_for(me(request), schedule_id, when)
    except (ValueError, Schedule.DoesNotExist):
        raise Http404 from None
    return _act(request, action, dose.pk)
