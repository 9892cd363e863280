"""The seed's "management interface": notifications, recipients, deliveries with their
attempts (a read-only audit), preferences and templates."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.delivery import operations
from privacy.admin_audit import AuditedAdminViews
from privacy.encryption.search import EncryptedSearchAdmin

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
    actions = ["resend_failed", "cancel_pending"]

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
