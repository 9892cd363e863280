from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from privacy.admin_audit import AuditedAdminViews
from privacy.encryption.fields import blind_match

from .models import User

# A search term with this many digits may be a phone number: a local one is read as South
# African, as the phone field reads input.
PHONE_SEARCH_MIN_DIGITS = 9


@admin.register(User)
class UserAdmin(AuditedAdminViews, DjangoUserAdmin):
    audit_resource = "profile"
    list_display = ("username", "email", "first_name", "last_name", "user_type", "is_active")
    list_filter = ("user_type", "preferred_language", "is_active", "is_staff", "phone_verified")
    search_fields = ("username", "first_name", "last_name", "email")
    search_help_text = _(
        "Username, names and email address: any part. Phone numbers are encrypted: type the "
        "whole number (082 555 0147 or +27825550147) to find its owner; part of a number "
        "finds nothing."
    )
    readonly_fields = ("phone_verified",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            _("MedGuard"),
            {"fields": ("user_type", "preferred_language", "timezone", "phone", "phone_verified")},
        ),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("MedGuard"),
            {"fields": ("email", "user_type", "preferred_language", "timezone", "phone")},
        ),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        """Also a whole phone number (numbers are encrypted: matched by blind index)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if sum(c.isdigit() for c in term) >= PHONE_SEARCH_MIN_DIGITS:
            results = results | queryset.filter(blind_match(User, "phone", term))
        return results, may_have_duplicates

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if "phone" in form.changed_data:
            # Staff set the number from the patient's file or in person: it counts as
            # verified (only a number the user typed waits for a code).
            obj.set_phone(obj.phone, verified=True)
        super().save_model(request, obj, form, change)
