"""The caller's own medications: their active supplies, one supply, and a restock."""

from __future__ import annotations

from decimal import Decimal

from django.db import DataError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from medications import stock
from medications.models import Supply
from notifications.api.base import ApiView, caller, checked_id
from notifications.api.schema import COMMON, NOT_FOUND, WITH_BODY

from .action_serializers import RestockSerializer
from .serializers import SupplySerializer
from .supply_items import SupplyItem, active_supplies, local_today, supply_items

TAG = "medications"
SUPPLY_ID = OpenApiParameter(
    "supply_id", int, OpenApiParameter.PATH, description="The supply's id (`id` in the list)."
)
FORECAST = (
    "`days_of_supply` and `run_out_date` forecast the stock at the rate the active "
    "(not paused, not ended) schedules use it, counted in the patient's own calendar days; "
    "both are null when no schedule is active."
)
# The most Supply.quantity_on_hand can hold (max_digits=10, decimal_places=2).
MAX_QUANTITY_ON_HAND = Decimal("99999999.99")


def _too_much() -> serializers.ValidationError:
    return serializers.ValidationError(
        {"quantity": [_("The quantity on hand would be larger than can be recorded.")]}
    )


def own_supply(request: Request, supply_id: int) -> SupplyItem:
    user = caller(request)
    supplies = active_supplies(user.pk).filter(pk=checked_id(supply_id))
    items = supply_items(supplies, local_today(user))
    if not items:
        raise NotFound
    return items[0]


class MedicationListView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="The caller's medications",
        description=(
            "The caller's active supplies, by medicine name, each with its schedules (by time "
            "of day). Not paginated: a patient has a handful. " + FORECAST
        ),
        responses={200: SupplySerializer(many=True), **COMMON},
    )
    def get(self, request: Request) -> Response:
        user = caller(request)
        items = supply_items(active_supplies(user.pk), local_today(user))
        return Response(SupplySerializer(items, many=True).data)


class MedicationDetailView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="One of the caller's medications",
        description=FORECAST,
        parameters=[SUPPLY_ID],
        responses={200: SupplySerializer, 404: NOT_FOUND, **COMMON},
    )
    def get(self, request: Request, supply_id: int) -> Response:
        return Response(SupplySerializer(own_supply(request, supply_id)).data)


class RestockView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Record a restock of one of the caller's medications",
        description=(
            "Adds `quantity` (more than 0, at most 10000, at most 2 decimal places) to the "
            "quantity on hand and starts a new stock episode, so a later low stock is "
            "alerted again; `expiry_date`, when given, replaces the supply's. Not "
            "idempotent: each call adds. Returns the supply as it is now."
        ),
        parameters=[SUPPLY_ID],
        request=RestockSerializer,
        responses={200: SupplySerializer, 404: NOT_FOUND, **WITH_BODY},
    )
    def post(self, request: Request, supply_id: int) -> Response:
        user = caller(request)
        body = RestockSerializer(data=request.data, context={"today": local_today(user)})
        body.is_valid(raise_exception=True)
        supply = own_supply(request, supply_id).supply
        # Each restock is bounded, their sum is not: SQLite would store a total it cannot
        # read back, PostgreSQL refuses it (the DataError: a restock racing this one).
        if supply.quantity_on_hand + body.validated_data["quantity"] > MAX_QUANTITY_ON_HAND:
            raise _too_much()
        try:
            stock.restock(supply.pk, by=user, **body.validated_data)
        except Supply.DoesNotExist:
            raise NotFound from None
        except DataError:
            raise _too_much() from None
        return Response(SupplySerializer(own_supply(request, supply_id)).data)
