from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from .choices import Category, Channel, EmailTimePreference


class _ParsedTimeAttribute(DeferredAttribute):
    """Parses "22:00" on assignment, so `get_or_create(defaults={'quiet_hours_start':
    '22:00'})` as the seed shows leaves a real ``datetime.time`` on the instance and a bad
    value fails at once, naming the field."""

    def __set__(self, instance: models.Model, value: Any) -> None:
        try:
            parsed = self.field.to_python(value)
        except ValidationError as error:
            raise ValidationError({self.field.name: error.messages}) from None
        instance.__dict__[self.field.attname] = parsed


class LocalTimeField(models.TimeField):
    """A wall-clock time in the user's own time zone."""

    descriptor_class = _ParsedTimeAttribute


class UserNotificationPreferences(models.Model):
    """How, when and about what a user wants to hear. A user without a row gets the field
    defaults (see ``notifications.preferences.preferences_for``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    # Channels
    in_app_notifications_enabled = models.BooleanField(_("in-app notifications"), default=True)
    email_notifications_enabled = models.BooleanField(_("email notifications"), default=True)
    sms_notifications_enabled = models.BooleanField(_("SMS notifications"), default=False)
    push_notifications_enabled = models.BooleanField(_("push notifications"), default=True)
    # Categories
    medication_reminders_enabled = models.BooleanField(_("medication reminders"), default=True)
    stock_alerts_enabled = models.BooleanField(_("stock and expiry alerts"), default=True)
    system_notifications_enabled = models.BooleanField(_("system notifications"), default=True)
    # Privacy: SMS and lock-screen push say "a medication" unless the user chose otherwise.
    show_medication_names_in_sms_push = models.BooleanField(
        _("show medication names in SMS, push and email"), default=False
    )
    # Timing
    email_time_preference = models.CharField(
        _("email time"),
        max_length=10,
        choices=EmailTimePreference.choices,
        default=EmailTimePreference.IMMEDIATE,
    )
    email_custom_time = LocalTimeField(_("custom email time"), null=True, blank=True)
    quiet_hours_enabled = models.BooleanField(_("quiet hours"), default=False)
    quiet_hours_start = LocalTimeField(_("quiet hours start"), default=datetime.time(22, 0))
    quiet_hours_end = LocalTimeField(_("quiet hours end"), default=datetime.time(7, 0))
    # Consent (POPIA): the person's current answer per purpose, written only by
    # ``privacy.services.consent``, which keeps the history (when, how, which wording) in
    # ``privacy.ConsentRecord``. Kept on this row because the policy reads it at every send
    # and this row is already read there. Email and push are the service asked for (withdraw
    # at any time); SMS also needs its channel switched on (off by default); clinic news is
    # direct marketing (POPIA s69): nobody gets it without opting in.
    email_reminders_consent = models.BooleanField(_("consent to reminders by email"), default=True)
    push_reminders_consent = models.BooleanField(_("consent to reminders by push"), default=True)
    sms_reminders_consent = models.BooleanField(_("consent to reminders by SMS"), default=True)
    caregiver_sharing_consent = models.BooleanField(
        _("consent to sharing with caregivers"), default=True
    )
    staff_broadcasts_consent = models.BooleanField(_("consent to clinic news"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"notification preferences of user {self.user_id}"

    def clean(self) -> None:
        if (
            self.email_time_preference == EmailTimePreference.CUSTOM
            and self.email_custom_time is None
        ):
            raise ValidationError(
                {"email_custom_time": _("Choose a time when the email time is “custom”.")}
            )

    def channel_enabled(self, channel: str) -> bool:
        return bool(
            {
                Channel.IN_APP: self.in_app_notifications_enabled,
                Channel.EMAIL: self.email_notifications_enabled,
                Channel.SMS: self.sms_notifications_enabled,
                Channel.PUSH: self.push_notifications_enabled,
            }[Channel(channel)]
        )

    def channel_consented(self, channel: str) -> bool:
        """Whether the person consents to being reached on ``channel``; in-app messages
        stay inside the service they signed up for."""
        return bool(
            {
                Channel.IN_APP: True,
                Channel.EMAIL: self.email_reminders_consent,
                Channel.SMS: self.sms_reminders_consent,
                Channel.PUSH: self.push_reminders_consent,
            }[Channel(channel)]
        )

    def category_enabled(self, category: str) -> bool:
        return bool(
            {
                Category.MEDICATION_REMINDERS: self.medication_reminders_enabled,
                Category.STOCK_ALERTS: self.stock_alerts_enabled,
                Category.SYSTEM: self.system_notifications_enabled,
            }[Category(category)]
        )
