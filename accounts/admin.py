from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "user_type", "is_active")
    list_filter = ("user_type", "preferred_language", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("MedGuard"), {"fields": ("user_type", "preferred_language", "timezone", "phone")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (
            _("MedGuard"),
            {"fields": ("email", "user_type", "preferred_language", "timezone", "phone")},
        ),
    )
