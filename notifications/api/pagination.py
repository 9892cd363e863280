"""Cursor pagination for the inbox.

A cursor is a position in the (-created_at, -id) order, so a page is one index range scan
of the user's inbox however deep the user has scrolled, with no COUNT(*) and no OFFSET;
rows arriving while the user scrolls neither repeat nor vanish between pages.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class InboxCursorPagination(CursorPagination):
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
