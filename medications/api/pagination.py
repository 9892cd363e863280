"""Cursor pagination of dose lists, the same as the inbox's (same parameters, same
validation of a forged cursor) in due-time order: a page is one range of the patient's
doses however far back the client scrolls."""

from __future__ import annotations

from notifications.api.pagination import BoundedCursorPagination


class DoseCursorPagination(BoundedCursorPagination):
    ordering = ("-due_at", "-id")
