"""Cursor pagination: bounded page sizes, a bad cursor or size is a 400 naming it.

``BoundedCursorPagination`` is DRF's, over a queryset (the dose lists).
``InboxCursorPagination`` pages the inbox by keyset with ``notifications.inbox.page``: a
cursor is a position in the (-created_at, -id) order, so a page is one index range scan
however deep the user has scrolled, with no COUNT(*) and no OFFSET; rows arriving while the
user scrolls neither repeat nor vanish between pages. Both answer in the same shape
(``next``, ``previous``, ``results``) with the same parameters.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from notifications.inbox.page import PageRow, Position, read_page

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class BoundedCursorPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        # DRF silently falls back to the default for a bad value; a client asking for 500
        # or "ten" should be told, naming the parameter.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Enter a whole number from 1 to %(maximum)d.")
                        % {"maximum": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def decode_cursor(self, request: Request) -> Cursor | None:
        # A malformed cursor is a bad request, not a missing page. The position is checked
        # here too: DRF would hand any string to the database as a datetime (a 500).
        try:
            cursor = super().decode_cursor(request)
            if cursor == Cursor(offset=0, reverse=False, position=None):
                # What junk decodes to (base64 skips what is not in its alphabet); DRF never
                # writes it: the first page's link has no cursor.
                raise NotFound
            if cursor is not None and cursor.position is not None:
                position = parse_datetime(str(cursor.position))
                if position is None or timezone.is_naive(position):
                    raise NotFound
        except (NotFound, ValueError):
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor")]}) from None
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
            elif parameter["name"] == self.cursor_query_param:
                parameter["schema"] = {"type": "string", "maxLength": 200}
        return parameters


class InboxCursorPagination(BoundedCursorPagination):
    """The inbox by keyset. A cursor's position is "<created_at ISO>_<recipient id>"; it
    says which way to read with DRF's "reverse" flag, and is encoded as DRF's are."""

    def paginate_inbox(
        self, request: Request, user_id: int, *, status: str | None, notification_type: str | None
    ) -> list[PageRow]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        position = _position(cursor)
        reverse = cursor is not None and cursor.reverse
        rows = read_page(
            user_id,
            status=status,
            notification_type=notification_type,
            limit=size + 1,
            after=None if reverse else position,
            before=position if reverse else None,
        )
        more = len(rows) > size
        if reverse:
            page = rows[len(rows) - size :] if more else rows
            self._next = Position.of(page[-1]) if page else position
            self._previous = Position.of(page[0]) if more else None
        else:
            page = rows[:size]
            self._next = Position.of(page[-1]) if more else None
            self._previous = Position.of(page[0]) if page and position else position
        return page

    def get_next_link(self) -> str | None:
        return self._link(self._next, reverse=False)

    def get_previous_link(self) -> str | None:
        return self._link(self._previous, reverse=True)

    def _link(self, position: Position | None, *, reverse: bool) -> str | None:
        if position is None:
            return None
        encoded = f"{position.created_at.isoformat()}_{position.recipient_id}"
        # DRF's stubs say int; a position is any string DRF puts in the query string.
        cursor = Cursor(offset=0, reverse=reverse, position=encoded)  # type: ignore[arg-type]
        return str(self.encode_cursor(cursor))

    def decode_cursor(self, request: Request) -> Cursor | None:
        invalid = ValidationError({self.cursor_query_param: [_("Invalid cursor")]})
        try:
            cursor = CursorPagination.decode_cursor(self, request)
        except NotFound:
            raise invalid from None
        if cursor is not None and (cursor.offset or _position(cursor) is None):
            raise invalid
        return cursor


def _position(cursor: Cursor | None) -> Position | None:
    if cursor is None or cursor.position is None:
        return None
    created, _, recipient_id = str(cursor.position).rpartition("_")
    try:
        created_at = parse_datetime(created)
    except ValueError:
        return None
    if created_at is None or timezone.is_naive(created_at) or not recipient_id.isdigit():
        return None
    return Position(created_at, int(recipient_id))
