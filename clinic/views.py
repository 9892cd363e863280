"""The clinic staff's pages. Thin: they validate, then read ``dashboard.build`` or call
``NotificationService``; every page renders in the signed-in user's language and zone."""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from notifications.api.base import MAX_ID
from notifications.api.reports import delivery_report
from notifications.models import DeliveryStatus, Notification
from notifications.services import NotificationService
from notifications.web.views import in_users_locale

from . import charts, exports
from .access import broadcast_access, dashboard_access
from .dashboard import BUCKET_ORDER, build
from .forms import BroadcastForm, DateRangeForm
from .rollups import zone
from .tasks import refresh_dashboard_rollups

if TYPE_CHECKING:
    from accounts.models import User


def _today() -> datetime.date:
    return timezone.localtime(timezone.now(), zone()).date()


def _date_range(request: HttpRequest) -> DateRangeForm:
    form = DateRangeForm(request.GET or None, today=_today())
    form.is_valid()
    return form


@require_GET
@dashboard_access
@in_users_locale
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _date_range(request)
    board = build(form.period(), _today())
    days = list(board.deliveries_by_day.items())
    adherence = [
        (day.isoformat(), round(100 * taken / decided, 1) if decided else 0)
        for day, (taken, decided) in board.adherence_by_day.items()
    ]
    context = {
        "active": "dashboard",
        "form": form,
        "board": board,
        "statuses": DeliveryStatus.values,
        "buckets": BUCKET_ORDER,
        "delivery_chart": charts.stacked_bars(
            [(day.isoformat(), statuses) for day, statuses in days], DeliveryStatus.values
        ),
        "adherence_chart": charts.bars(adherence, peak=100),
        "adherence": adherence,
        "chart": {"width": charts.WIDTH, "height": charts.HEIGHT},
        "query": request.GET.urlencode(),
    }
    return render(request, "clinic/dashboard.html", context)


@require_GET
@dashboard_access
def export_csv(request: HttpRequest, table: str) -> HttpResponse:
    if table not in exports.TABLES:
        raise Http404
    form = _date_range(request)
    board = build(form.period(), _today())
    return exports.csv_response(table, board)


def _recipient_count(user_types: list[str]) -> int:
    return get_user_model().objects.filter(is_active=True, user_type__in=user_types).count()


@require_http_methods(["GET", "POST"])
@broadcast_access
@in_users_locale
def broadcast(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(
            request, "clinic/broadcast.html", {"active": "broadcast", "form": BroadcastForm()}
        )
    form = BroadcastForm(request.POST)
    if not form.is_valid():
        return render(request, "clinic/broadcast.html", {"active": "broadcast", "form": form})
    data = form.cleaned_data
    if "confirm" not in request.POST:
        # First the count, then the send: a broadcast cannot be taken back.
        return render(
            request,
            "clinic/broadcast.html",
            {
                "active": "broadcast",
                "form": form,
                "preview": True,
                "recipients": _recipient_count(data["target_user_types"]),
                # Sent along with the confirmation: pressing "Send" twice sends once.
                "broadcast_key": uuid.uuid4().hex,
            },
        )
    try:
        key = uuid.UUID(request.POST.get("broadcast_key", "")).hex
    except ValueError:
        key = uuid.uuid4().hex
    result = NotificationService.send_system_notification(
        title=data["title"],
        content=data["content"],
        priority=data["priority"],
        target_user_types=data["target_user_types"],
        channels=data["channels"],
        require_acknowledgment=data["require_acknowledgment"],
        idempotency_key=f"broadcast:{key}",
        created_by=cast("User", request.user),
    )
    transaction.on_commit(lambda: refresh_dashboard_rollups.apply_async(ignore_result=True))
    # Pressing "Send now" again finds the same broadcast (its key) and sends nothing more.
    messages.success(request, _("The broadcast is on its way. Its deliveries are counted below."))
    assert result.notification is not None  # noqa: S101 - a send always records one
    return redirect(reverse("clinic:report", args=[result.notification.pk]))


@require_GET
@dashboard_access
@in_users_locale
def report(request: HttpRequest, notification_id: int) -> HttpResponse:
    if notification_id > MAX_ID:
        raise Http404
    counts = delivery_report(notification_id)
    if counts is None:
        raise Http404
    notification = Notification.objects.only("title", "created_at", "priority").get(
        pk=notification_id
    )
    return render(
        request,
        "clinic/report.html",
        {
            "active": "dashboard",
            "notification": notification,
            "report": counts,
            "statuses": DeliveryStatus.values,
        },
    )
