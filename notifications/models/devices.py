from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PushDevice(models.Model):
    """Where a user's push notifications go: an Expo push token from the mobile app, an
    FCM registration token (an Android build that does not use Expo's push service), or a
    browser's Web Push subscription."""

    class Kind(models.TextChoices):
        EXPO = "expo", _("Expo push token")
        FCM = "fcm", _("FCM registration token")
        WEB_PUSH = "webpush", _("Web Push subscription")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The Expo or FCM token, or the Web Push endpoint URL.
    token = models.CharField(_("token"), max_length=500)
    # Web Push only: the subscription's p256dh and auth keys.
    keys = models.JSONField(_("keys"), default=dict, blank=True)
    platform = models.CharField(_("platform"), max_length=20, blank=True)
    device_model = models.CharField(_("device model"), max_length=100, blank=True)
    os_version = models.CharField(_("OS version"), max_length=50, blank=True)
    # Turned off when the provider says the token is no longer valid.
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("push device")
        verbose_name_plural = _("push devices")
        constraints = [
            models.UniqueConstraint(fields=["kind", "token"], name="one_device_per_token"),
        ]
        indexes = [models.Index(fields=["user", "active"], name="push_device_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} device {self.pk} of user {self.user_id}"
