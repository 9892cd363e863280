"""The caller's own doses: the list, and take, skip and snooze."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from medications import doses
from medications.models import Dose
from notifications.api.base import ApiView, caller, checked_id
from notifications.api.schema import (
    COMMON,
    INVALID,
    NOT_FOUND,
    WITH_BODY,
    DetailErrorSerializer,
)

from .action_serializers import DoseQuerySerializer, EmptyBodySerializer, SnoozeSerializer
from .dose_queries import filter_doses
from .pagination import DoseCursorPagination
from .serializers import MEDICATION_VISIBLE, DoseSerializer

if TYPE_CHECKING:
    from accounts.models import User

TAG = "doses"
DOSE_ID = OpenApiParameter("dose_id", int, OpenApiParameter.PATH, description="The dose's id.")
LIST_DESCRIPTION = (
    "Newest first (by due time), cursor-paginated like the notifications: follow `next` "
    "(and `previous`); `page_size` is 1 to 100 (default 20). `from` and `to` are calendar "
    "days in the patient's own time zone, both included; `status` and the days combine."
)


class DoseChangeRefused(APIException):
    # 409: the request is well formed; the dose's state is what refuses it.
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This change does not apply to this dose.")
    default_code = "dose_change_refused"


def dose_page(
    view: GenericAPIView, dose_set: QuerySet[Dose], zone: ZoneInfo, visible: bool
) -> Response:
    """One page of ``dose_set`` as the query parameters ask (400 naming a bad one)."""
    query = DoseQuerySerializer(data=view.request.query_params)
    query.is_valid(raise_exception=True)
    page = view.paginate_queryset(filter_doses(dose_set, query.validated_data, zone))
    data = DoseSerializer(page or [], many=True, context={MEDICATION_VISIBLE: visible}).data
    return view.get_paginated_response(data)


class DoseListView(ApiView, GenericAPIView):
    pagination_class = DoseCursorPagination

    @extend_schema(
        tags=[TAG],
        summary="The caller's doses, newest first",
        description=LIST_DESCRIPTION,
        parameters=[DoseQuerySerializer],
        responses={200: DoseSerializer(many=True), 400: INVALID, **COMMON},
    )
    def get(self, request: Request) -> Response:
        user = caller(request)
        own = doses.doses_for(user).select_related("schedule__supply__medicine")
        return dose_page(self, own, user.timezone, visible=True)


class DoseActionView(ApiView):
    """POST only; the change is one of the ``medications.doses`` services, which decide
    concurrent requests in the database and never close a dose twice."""

    body_serializer: type[serializers.Serializer] = EmptyBodySerializer
    action: Callable[[int, User, dict[str, Any]], Dose]

    def post(self, request: Request, dose_id: int) -> Response:
        user = caller(request)
        body = self.body_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            dose = type(self).action(checked_id(dose_id), user, body.validated_data)
        except Dose.DoesNotExist:
            raise NotFound from None
        except doses.DoseStateError as refusal:
            # The service's message is already in the active (the caller's) language.
            raise DoseChangeRefused(str(refusal)) from None
        shown = doses.doses_for(user).select_related("schedule__supply__medicine").get(pk=dose.pk)
        return Response(DoseSerializer(shown, context={MEDICATION_VISIBLE: True}).data)


def _take(dose_id: int, user: User, _body: dict[str, Any]) -> Dose:
    return doses.take_dose(dose_id, by=user)


def _skip(dose_id: int, user: User, _body: dict[str, Any]) -> Dose:
    return doses.skip_dose(dose_id, by=user)


def _snooze(dose_id: int, user: User, body: dict[str, Any]) -> Dose:
    return doses.snooze_dose(dose_id, by=user, minutes=body.get("minutes"))


_ACTION_RESPONSES: dict[int, Any] = {
    200: DoseSerializer,
    404: NOT_FOUND,
    409: OpenApiResponse(
        DetailErrorSerializer,
        description="The dose's state refuses the change (`detail`, in the caller's language).",
    ),
    **WITH_BODY,
}


@extend_schema(
    tags=[TAG],
    summary="Take a dose",
    description=(
        "Records the dose as taken now and lowers the supply's quantity on hand by the "
        "schedule's dose quantity (never below 0). Idempotent: taking a taken dose again "
        "answers 200 with the dose unchanged and lowers the stock no further. A missed dose "
        "may still be taken. **Refused with 409** for a skipped dose; `detail` says why, in "
        "the caller's language. No body (any field is refused)."
    ),
    parameters=[DOSE_ID],
    request=EmptyBodySerializer,
    responses=_ACTION_RESPONSES,
)
class TakeDoseView(DoseActionView):
    action = staticmethod(_take)


@extend_schema(
    tags=[TAG],
    summary="Skip a dose",
    description=(
        "Records that the dose was left out on purpose; stock is not touched. Idempotent. "
        "**Refused with 409** for a dose already taken. No body (any field is refused)."
    ),
    parameters=[DOSE_ID],
    request=EmptyBodySerializer,
    responses=_ACTION_RESPONSES,
)
class SkipDoseView(DoseActionView):
    action = staticmethod(_skip)


@extend_schema(
    tags=[TAG],
    summary="Snooze a dose",
    description=(
        "Reminds again `minutes` from now (default 10, at most "
        "`MEDICATION_SNOOZE_MAX_MINUTES`, 120 unless configured); snoozing again moves the "
        "time. **Refused with 409** for a dose that is no longer due (taken, skipped or "
        "missed)."
    ),
    parameters=[DOSE_ID],
    request=SnoozeSerializer,
    responses=_ACTION_RESPONSES,
)
class SnoozeDoseView(DoseActionView):
    body_serializer = SnoozeSerializer
    action = staticmethod(_snooze)
