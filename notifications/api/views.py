"""The caller's inbox: list, unread count, and state changes (read, acknowledge, dismiss)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from notifications.inbox import states as inbox
from notifications.models import NotificationRecipient

from .base import ApiView, caller, checked_id
from .inbox_items import render_items
from .pagination import InboxCursorPagination
from .schema import COMMON, INVALID, NOT_FOUND, WITH_BODY, detail_response
from .serializers import (
    InboxItemSerializer,
    InboxQuerySerializer,
    MarkAllReadSerializer,
    UnreadCountSerializer,
    inbox_filters,
    inbox_items_data,
)
from .validation import EmptyBodySerializer, refuse_any_body

TAG = "notifications"
NOTIFICATION_ID = OpenApiParameter(
    "notification_id", int, OpenApiParameter.PATH, description="The notification's id."
)


class StateChangeNotAllowed(APIException):
    # 409: the request is well formed; the notification's state is what refuses it.
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This change does not apply to this notification.")
    default_code = "state_change_refused"


class InboxListView(ApiView, GenericAPIView):
    serializer_class = InboxItemSerializer
    pagination_class = InboxCursorPagination

    def get_queryset(self) -> Any:
        # Only for the schema generator: the list is read by the paginator, in SQL.
        return NotificationRecipient.objects.none()

    @extend_schema(
        tags=[TAG],
        summary="The caller's in-app notifications, newest first",
        description=(
            "Cursor-paginated: follow `next` (and `previous`); `page_size` is 1 to 100 "
            "(default 20). There is no total count: counting a large inbox on every page "
            "costs more than the page. Titles and contents are rendered in the caller's "
            "preferred language. Dismissed notifications are left out unless "
            "`status=dismissed`; `status` and `type` combine."
        ),
        parameters=[InboxQuerySerializer],
        responses={200: InboxItemSerializer(many=True), 400: INVALID, **COMMON},
    )
    def get(self, request: Request) -> Response:
        filters = inbox_filters(request.query_params)
        paginator = cast(InboxCursorPagination, self.paginator)
        page = paginator.paginate_inbox(
            request,
            caller(request).pk,
            status=filters["status"],
            notification_type=filters["type"],
        )
        items = render_items(page, caller(request))
        return paginator.get_paginated_response(inbox_items_data(items))


class StateChangeView(ApiView):
    """POST only; the change itself is one of the ``notifications.inbox.states`` services, which
    are idempotent and never move a state backwards."""

    change: Callable[[int, int], NotificationRecipient]

    def post(self, request: Request, notification_id: int) -> Response:
        refuse_any_body(request)
        user = caller(request)
        try:
            recipient = type(self).change(user.pk, checked_id(notification_id))
        except NotificationRecipient.DoesNotExist:
            raise NotFound from None
        except inbox.StateChangeRefused as refusal:
            raise StateChangeNotAllowed(str(refusal)) from None
        (item,) = render_items([recipient], user)
        return Response(InboxItemSerializer(item).data)


_STATE_RESPONSES: dict[int, Any] = {200: InboxItemSerializer, 404: NOT_FOUND, **WITH_BODY}
NO_BODY = "No body, or an empty JSON object: any field is refused (400, naming it)."


@extend_schema(
    tags=[TAG],
    summary="Mark a notification read",
    description="Idempotent; an acknowledged or dismissed notification stays so. " + NO_BODY,
    parameters=[NOTIFICATION_ID],
    request=EmptyBodySerializer,
    responses=_STATE_RESPONSES,
)
class MarkReadView(StateChangeView):
    change = staticmethod(inbox.mark_read)


@extend_schema(
    tags=[TAG],
    summary="Acknowledge a notification",
    description=(
        "Records that the caller has seen and accepted a notification that asks for "
        "acknowledgment (`require_acknowledgment: true`); it also counts as read. "
        "Idempotent. **Refused with 409** for a notification that does not ask for "
        "acknowledgment (accepting it would record a confirmation nobody asked for) and "
        "for a dismissed one; `detail` says why, in the caller's language. " + NO_BODY
    ),
    parameters=[NOTIFICATION_ID],
    request=EmptyBodySerializer,
    responses={**_STATE_RESPONSES, 409: detail_response("The notification does not ask for it.")},
)
class AcknowledgeView(StateChangeView):
    change = staticmethod(inbox.acknowledge)


@extend_schema(
    tags=[TAG],
    summary="Dismiss a notification",
    description=(
        "Hides it from the list. Idempotent. **Refused with 409** for a notification that "
        "asks for acknowledgment and has not been acknowledged yet: dismissing must not be "
        "a way round a confirmation a pharmacist asked for. " + NO_BODY
    ),
    parameters=[NOTIFICATION_ID],
    request=EmptyBodySerializer,
    responses={**_STATE_RESPONSES, 409: detail_response("Acknowledge it first.")},
)
class DismissView(StateChangeView):
    change = staticmethod(inbox.dismiss)


class UnreadCountView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="How many of the caller's notifications are unread",
        responses={200: UnreadCountSerializer, **COMMON},
    )
    def get(self, request: Request) -> Response:
        return Response({"unread": inbox.unread_count(caller(request).pk)})


class MarkAllReadView(ApiView):
    @extend_schema(
        tags=[TAG],
        summary="Mark all the caller's unread notifications read",
        description="`updated` is how many changed (0 when none were unread). " + NO_BODY,
        request=EmptyBodySerializer,
        responses={200: MarkAllReadSerializer, **WITH_BODY},
    )
    def post(self, request: Request) -> Response:
        refuse_any_body(request)
        return Response({"updated": inbox.mark_all_read(caller(request).pk)})
