from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from anymail.signals import tracking

        from notifications.inbox import texts as inbox_text

        from .channels import checks  # noqa: F401 - registers the provider system checks
        from .models import NotificationTemplate
        from .receipts.email_events import record_email_event

        # Anymail announces verified ESP events only through its signal.
        tracking.connect(record_email_event, dispatch_uid="notifications-email-events")
        # An admin's template edit shows at once in the process that saved it (other
        # processes within inbox_text.OVERRIDES_MAX_AGE_SECONDS).
        for signal in (post_save, post_delete):
            signal.connect(
                inbox_text.forget, sender=NotificationTemplate, dispatch_uid=f"inbox-text-{signal}"
            )
