from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "user_type", "is_active")
    list_filter = ("user_type", "preferred_language", "is_active", "is_staff", "phone_verified")
    search_fields = ("username", "first_name", "last_name", "email")
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

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if "phone" in form.changed_data:
            # Staff set the number from the patient's file or in person: it counts as
            # verified (only a number the user typed waits for a code).
            obj.set_phone(obj.phone, verified=True)
        super().save_model(request, obj, form, change)
