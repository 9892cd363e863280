from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

STAFF_USER_TYPE = "staff"


def is_staff_member(user: Any) -> bool:
    """MedGuard staff: anyone allowed into the Django admin (``is_staff``) or whose role in
    the product is staff (``user_type == "staff"``). Both are employees; patients,
    caregivers and healthcare providers are neither."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or getattr(user, "user_type", None) == STAFF_USER_TYPE)
    )


class IsStaffMember(BasePermission):
    """Staff endpoints; DRF's own (translated) message explains a refusal."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_staff_member(request.user)
