"""Audit entries for staff reading patient data in the Django admin.

The API's reads are recorded by ``audit_middleware``; the admin's pages are recorded here,
by a ModelAdmin mixin: opening a record's page (change view) writes one entry about the
patient it belongs to, and a list page (changelist) one entry per patient whose rows it
shows — so each patient's own audit list tells them that staff looked. Changes made in the
admin are in the admin's own history (``LogEntry``); only reads are recorded here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from privacy.models import AuditAction, AuditEntry
from privacy.services import audit

# A list of rows about more people than this (a broadcast notification's recipients) is
# recorded as one entry about nobody in particular: a broadcast says nothing of one person.
MAX_SUBJECTS_PER_VIEW = 200


class AuditedAdminViews(admin.ModelAdmin):
    """``audit_subject``: the path from the model to the patient (a user), "pk" for the user
    model itself. ``audit_resource``: the kind of record, as the audit list names it."""

    audit_subject = "pk"
    audit_resource = ""

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._record_read(request, [object_id], view="change", object_id=object_id)
        return response

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            pks = [row.pk for row in changelist.result_list]
            if pks:
                self._record_read(request, pks, view="list")
        return response

    def _record_read(
        self, request: HttpRequest, pks: list[Any], *, view: str, object_id: object = ""
    ) -> None:
        actor: Any = request.user  # signed in: the admin lets no one else in
        subjects = list(
            self.model._default_manager.filter(
                pk__in=pks, **{f"{self.audit_subject}__isnull": False}
            )
            .values_list(self.audit_subject, flat=True)
            .distinct()
            .order_by()[: MAX_SUBJECTS_PER_VIEW + 1]
        )
        others = [subject for subject in subjects if subject != actor.pk]
        meta = self.model._meta
        what = f"admin {view} {meta.app_label}.{meta.model_name}"
        if len(others) > MAX_SUBJECTS_PER_VIEW:
            others = [None]
        role = "staff" if getattr(actor, "is_staff", False) else getattr(actor, "user_type", "")
        address = audit.client_ip(request)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    subject_id=subject,
                    actor=actor,
                    actor_role=role,
                    action=AuditAction.READ,
                    resource=self.audit_resource or meta.model_name,
                    object_id=str(object_id or ""),
                    what=what,
                    ip_address=address,
                )
                for subject in others
            ]
        )
