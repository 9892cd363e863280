"""The seed's "management interface": notifications, recipients, deliveries with their
attempts (a read-only audit), preferences and templates."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from notifications.delivery import operations, unknown
from privacy.admin_audit import AuditedAdminViews
from privacy.encryption.search import EncryptedSearchAdmin
from privacy.services.audit import client_ip

from .models import (
    Delivery,
    DeliveryAttempt,
    DeliveryReceipt,
    Notification,
    NotificationRecipient,
    NotificationTemplate,
    PushDevice,
    UserNotificationPreferences,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit records are written by the pipeline only."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(AuditedAdminViews, EncryptedSearchAdmin):
    # Titles are encrypted: searched among the newest (privacy.encryption.search).
    audit_subject = "recipients__user"
    audit_resource = "notifications"
    list_display = (
        "title",
        "notification_type",
        "priority",
        "event",
        "require_acknowledgment",
        "created_at",
    )
    list_filter = ("notification_type", "priority", "event", "require_acknowledgment")
    search_fields = ("title", "idempotency_key")
    date_hierarchy = "created_at"
    readonly_fields = ("event", "context", "idempotency_key", "created_by", "created_at")
    change_list_template = "admin/notifications/notification/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="notifications_notification_send_test",
            ),
            *super().get_urls(),
        ]

    def send_test_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """Send a test notification to oneself on every channel one has on."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:notifications_notification_changelist"))
        result = operations.send_test_notification(request.user)  # type: ignore[arg-type]
        self.message_user(
            request,
            _("Test notification sent to you: %(queued)d queued, %(deferred)d deferred.")
            % {"queued": result.queued, "deferred": result.deferred},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:notifications_notification_changelist"))


@admin.register(NotificationRecipient)
class NotificationRecipientAdmin(AuditedAdminViews, EncryptedSearchAdmin, ReadOnlyAdmin):
    audit_subject = "user"
    audit_resource = "notifications"
    list_display = ("notification", "user", "status", "in_app", "created_at", "read_at")
    list_filter = ("status", "in_app", "notification__notification_type")
    search_fields = ("user__username", "notification__title")
    list_select_related = ("notification", "user")
    raw_id_fields = ("notification", "user")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "provider",
        "provider_message_id",
        "error",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryReceiptInline(admin.TabularInline):
    """What the provider reported after taking the message (delivery reports)."""

    model = DeliveryReceipt
    extra = 0
    can_delete = False
    fields = ("received_at", "provider", "provider_status", "outcome", "detail")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class UnknownOutcomeForm(forms.Form):
    """Why staff settle an unknown outcome: kept in the audit trail with their name."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=unknown.REASON_MAX_LENGTH,
        min_length=5,
        help_text=_(
            "What you checked and with whom (e.g. a support ticket number). "
            "No patient details: this goes into the audit trail."
        ),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class ResendUnknownForm(UnknownOutcomeForm):
    confirmed = forms.BooleanField(
        label=_("The provider confirmed it never took these messages."),
        help_text=_("Without that, a resend may reach the patient twice."),
    )


@admin.register(Delivery)
class DeliveryAdmin(AuditedAdminViews, ReadOnlyAdmin):
    audit_subject = "recipient__user"
    audit_resource = "deliveries"
    list_display = (
        "id",
        "channel",
        "status",
        "recipient_user",
        "not_before",
        "attempts",
        "sent_at",
        "provider",
        "receipt_status",
        "last_error",
    )
    list_filter = ("status", "channel", "receipt_status", "provider", "digest")
    search_fields = ("recipient__user__username", "provider_message_id")
    list_select_related = ("recipient__user",)
    raw_id_fields = ("recipient",)
    inlines = [DeliveryAttemptInline, DeliveryReceiptInline]
    actions = [
        "resend_failed",
        "cancel_pending",
        "reconcile_unknown_now",
        "mark_unknown_sent",
        "resend_unknown",
    ]

    def has_settle_permission(self, request: HttpRequest) -> bool:
        """Settling an unknown outcome changes a delivery: more than looking at it."""
        return request.user.has_perm("notifications.change_delivery")

    @admin.display(description=_("recipient"))
    def recipient_user(self, delivery: Delivery) -> str:
        return str(delivery.recipient.user)

    @admin.action(description=_("Resend the selected failed deliveries"))
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = operations.resend_failed(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Cancel the selected pending deliveries"))
    def cancel_pending(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = operations.cancel_pending(queryset)
        self.message_user(
            request,
            ngettext("%(count)d delivery cancelled.", "%(count)d deliveries cancelled.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Outcome unknown: ask the provider now"), permissions=["settle"])
    def reconcile_unknown_now(
        self, request: HttpRequest, queryset: QuerySet[Delivery]
    ) -> TemplateResponse | None:
        def act(reason: str) -> None:
            result = unknown.reconcile_now(
                queryset,
                staff=request.user,  # type: ignore[arg-type] # admin_view: signed-in staff
                reason=reason,
                ip_address=client_ip(request),
            )
            self.message_user(
                request,
                gettext(
                    "Provider asked: %(sent)d sent, %(resent)d never taken and queued again, "
                    "%(failed)d lookups failed, %(no_api)d without a status API (confirm "
                    "those with the provider, then mark them sent or resend them)."
                )
                % {
                    "sent": result.sent,
                    "resent": result.resent,
                    "failed": result.lookup_failed,
                    "no_api": result.no_status_api,
                },
                messages.SUCCESS,
            )

        return self._settle_unknown(
            request, queryset, "reconcile_unknown_now", UnknownOutcomeForm, act
        )

    @admin.action(
        description=_("Outcome unknown: the provider confirmed it took them (mark sent)"),
        permissions=["settle"],
    )
    def mark_unknown_sent(
        self, request: HttpRequest, queryset: QuerySet[Delivery]
    ) -> TemplateResponse | None:
        def act(reason: str) -> None:
            count = unknown.mark_sent(
                queryset,
                staff=request.user,  # type: ignore[arg-type] # admin_view: signed-in staff
                reason=reason,
                ip_address=client_ip(request),
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery marked sent.", "%(count)d deliveries marked sent.", count
                )
                % {"count": count},
                messages.SUCCESS,
            )

        return self._settle_unknown(request, queryset, "mark_unknown_sent", UnknownOutcomeForm, act)

    @admin.action(
        description=_("Outcome unknown: the provider never took them (resend)"),
        permissions=["settle"],
    )
    def resend_unknown(
        self, request: HttpRequest, queryset: QuerySet[Delivery]
    ) -> TemplateResponse | None:
        def act(reason: str) -> None:
            count = unknown.resend(
                queryset,
                staff=request.user,  # type: ignore[arg-type] # admin_view: signed-in staff
                reason=reason,
                ip_address=client_ip(request),
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery queued again.", "%(count)d deliveries queued again.", count
                )
                % {"count": count},
                messages.SUCCESS,
            )

        return self._settle_unknown(request, queryset, "resend_unknown", ResendUnknownForm, act)

    def _settle_unknown(
        self,
        request: HttpRequest,
        queryset: QuerySet[Delivery],
        action: str,
        form_class: type[UnknownOutcomeForm],
        act: Callable[[str], None],
    ) -> TemplateResponse | None:
        """Ask for the reason (and, to resend, the confirmation) on a page of its own, as
        Django's delete confirmation does; act once it is given."""
        form = form_class(request.POST if "settle" in request.POST else None)
        if form.is_bound and form.is_valid():
            act(form.cleaned_data["reason"])
            return None
        selected = list(queryset.order_by("pk"))
        context = {
            **self.admin_site.each_context(request),
            "title": dict(self.get_action_choices(request)).get(action, action),
            "opts": self.model._meta,
            "form": form,
            "action": action,
            "deliveries": selected,
            "unknown_count": sum(d.status == "unknown" for d in selected),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/notifications/delivery/settle_unknown.html", context
        )


@admin.register(UserNotificationPreferences)
class UserNotificationPreferencesAdmin(AuditedAdminViews):
    audit_subject = "user"
    audit_resource = "preferences"
    list_display = (
        "user",
        "email_notifications_enabled",
        "sms_notifications_enabled",
        "push_notifications_enabled",
        "email_time_preference",
        "quiet_hours_enabled",
    )
    list_filter = (
        "email_time_preference",
        "quiet_hours_enabled",
        "sms_notifications_enabled",
        "show_medication_names_in_sms_push",
    )
    search_fields = ("user__username", "user__email")
    raw_id_fields = ("user",)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("event", "language", "part", "active", "updated_at")
    list_filter = ("event", "language", "part", "active")
    search_fields = ("event", "body")


@admin.register(PushDevice)
class PushDeviceAdmin(AuditedAdminViews):
    audit_subject = "user"
    audit_resource = "devices"
    list_display = ("user", "kind", "platform", "device_model", "active", "last_used_at")
    list_filter = ("kind", "platform", "active")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    readonly_fields = ("token", "keys")
