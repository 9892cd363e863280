"""Medicines, patients' supplies with their schedules, the dose log and caregiver links.

Stock is not edited here once a supply exists: it moves through ``take_dose`` and
``restock``, which keep the stock episode (and so the low-stock alerts) right. The dose
log is an audit of what patients recorded, so it is read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from privacy.admin_audit import AuditedAdminViews
from privacy.encryption.search import EncryptedSearchAdmin

from .models import CaregiverLink, Dose, Medicine, Schedule, Supply


@admin.register(Medicine)
class MedicineAdmin(EncryptedSearchAdmin):
    # The catalogue is about no one; the name is encrypted (searched in Python).
    list_display = ("name", "strength", "form")
    list_filter = ("form",)
    search_fields = ("name", "strength")


class ScheduleInline(admin.TabularInline):
    model = Schedule
    extra = 0
    fields = (
        "slot",
        "custom_time",
        "dose_quantity",
        "days_of_week",
        "start_date",
        "end_date",
        "paused",
    )


@admin.register(Supply)
class SupplyAdmin(AuditedAdminViews, EncryptedSearchAdmin):
    audit_subject = "patient"
    audit_resource = "medications"
    list_display = (
        "medicine",
        "patient",
        "quantity_on_hand",
        "unit",
        "expiry_date",
        "warning_days",
        "active",
    )
    list_filter = ("active", "medicine__form", "expiry_date")
    search_fields = ("medicine__name", "patient__username", "patient__email")
    list_select_related = ("medicine", "patient")
    autocomplete_fields = ("medicine", "patient")
    readonly_fields = ("stock_episode", "created_at", "updated_at")
    inlines = [ScheduleInline]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Supply | None = None
    ) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        # Saving a form would overwrite a dose taken meanwhile and skip the new episode.
        return (*fields, "quantity_on_hand") if obj is not None else fields


@admin.register(Schedule)
class ScheduleAdmin(AuditedAdminViews, EncryptedSearchAdmin):
    audit_subject = "supply__patient"
    audit_resource = "medications"
    list_display = ("__str__", "supply", "slot", "custom_time", "dose_quantity", "paused")
    list_filter = ("slot", "paused")
    search_fields = ("supply__medicine__name", "supply__patient__username")
    list_select_related = ("supply__medicine", "supply__patient")
    raw_id_fields = ("supply",)


@admin.register(Dose)
class DoseAdmin(AuditedAdminViews, EncryptedSearchAdmin):
    audit_subject = "schedule__supply__patient"
    audit_resource = "doses"
    list_display = ("__str__", "status", "due_at", "recorded_at", "snooze_count")
    list_filter = ("status",)
    search_fields = ("schedule__supply__medicine__name", "schedule__supply__patient__username")
    date_hierarchy = "due_at"
    list_select_related = ("schedule",)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CaregiverLink)
class CaregiverLinkAdmin(AuditedAdminViews):
    audit_subject = "patient"
    audit_resource = "caregiver_links"
    list_display = (
        "patient",
        "caregiver",
        "escalation_delay_minutes",
        "can_see_medication_details",
        "receives_stock_alerts",
        "active",
    )
    list_filter = ("active", "can_see_medication_details", "receives_stock_alerts")
    search_fields = ("patient__username", "patient__email", "caregiver__username")
    list_select_related = ("patient", "caregiver")
    autocomplete_fields = ("patient", "caregiver")
