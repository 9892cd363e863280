"""My medicines: add, change, schedules, restock, stop. Forms are plain HTML; an invalid
one comes back with its errors next to the fields (status 400) and nothing written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from medications import stock
from medications.api.supply_items import active_supplies, supply_items
from medications.models import Schedule, Supply

from . import medicines
from .forms import MedicineForm, RestockForm, ScheduleForm, SupplyForm
from .pages import me, personal_page
from .today import local_today


def _own(request: HttpRequest, supply_id: int) -> Supply:
    try:
        return medicines.own_supply(me(request), supply_id)
    except Supply.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@personal_page
def add_medicine(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    medicine_form, schedule_form = MedicineForm(data), ScheduleForm(data)
    if data is not None and medicine_form.is_valid() and schedule_form.is_valid():
        user = me(request)
        supply = medicines.add_medicine(
            user,
            **medicine_form.cleaned_data,
            **schedule_form.schedule_values(local_today(user)),
        )
        messages.success(request, _("%(medicine)s added.") % {"medicine": supply.medicine})
        return redirect("patients:medicine", supply_id=supply.pk)
    return render(
        request,
        "patients/medicine_add.html",
        {"active": "today", "medicine_form": medicine_form, "schedule_form": schedule_form},
        status=400 if data is not None else 200,
    )


def _medicine_page(
    request: HttpRequest, supply: Supply, status: int = 200, **forms: Any
) -> HttpResponse:
    item = supply_items(
        active_supplies(supply.patient_id).filter(pk=supply.pk), local_today(me(request))
    )[0]
    context = {
        "active": "today",
        "item": item,
        "supply_form": SupplyForm(
            initial={
                "dosage": supply.dosage,
                "instructions": supply.instructions,
                "warning_days": supply.warning_days,
            }
        ),
        "schedule_form": ScheduleForm(),
        "restock_form": RestockForm(),
    } | forms
    return render(request, "patients/medicine.html", context, status=status)


@require_http_methods(["GET", "POST"])
@personal_page
def medicine_page(request: HttpRequest, supply_id: int) -> HttpResponse:
    supply = _own(request, supply_id)
    if request.method == "POST":
        form = SupplyForm(request.POST)
        if not form.is_valid():
            return _medicine_page(request, supply, 400, supply_form=form)
        medicines.update_supply(supply, **form.cleaned_data)
        messages.success(request, _("Changes saved."))
        return redirect("patients:medicine", supply_id=supply.pk)
    return _medicine_page(request, supply)


@require_POST
@personal_page
def add_schedule(request: HttpRequest, supply_id: int) -> HttpResponse:
    supply = _own(request, supply_id)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _medicine_page(request, supply, 400, schedule_form=form)
    medicines.add_schedule(supply, **form.schedule_values(local_today(me(request))))
    messages.success(request, _("Time added."))
    return redirect("patients:medicine", supply_id=supply.pk)


@require_POST
@personal_page
def remove_schedule(request: HttpRequest, schedule_id: int) -> HttpResponse:
    try:
        supply_id = Schedule.objects.values_list("supply_id", flat=True).get(
            pk=schedule_id, supply__patient=me(request)
        )
        medicines.remove_schedule(me(request), schedule_id)
    except Schedule.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Time removed: no more reminders at that time."))
    return redirect("patients:medicine", supply_id=supply_id)


@require_POST
@personal_page
def restock(request: HttpRequest, supply_id: int) -> HttpResponse:
    supply = _own(request, supply_id)
    form = RestockForm(request.POST)
    if not form.is_valid():
        return _medicine_page(request, supply, 400, restock_form=form)
    stock.restock(supply.pk, by=me(request), **form.cleaned_data)
    messages.success(request, _("Stock added."))
    return redirect("patients:medicine", supply_id=supply.pk)


@require_POST
@personal_page
def stop_medicine(request: HttpRequest, supply_id: int) -> HttpResponse:
    supply = _own(request, supply_id)
    medicines.stop_medicine(supply)
    messages.success(
        request, _("%(medicine)s stopped: no more reminders.") % {"medicine": supply.medicine}
    )
    return redirect("patients:today")
