from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from timezone_field import TimeZoneField

DEFAULT_TIME_ZONE = "Africa/Johannesburg"


class User(AbstractUser):
    """A person who receives notifications: a patient, a caregiver, a healthcare provider
    or a member of staff. ``user_type`` is who they are in the product; ``is_staff`` is
    whether they may use the Django admin."""

    class UserType(models.TextChoices):
        PATIENT = "patient", _("Patient")
        CAREGIVER = "caregiver", _("Caregiver")
        HEALTHCARE_PROVIDER = "healthcare_provider", _("Healthcare provider")
        STAFF = "staff", _("Staff")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        AFRIKAANS = "af", _("Afrikaans")

    user_type = models.CharField(
        _("user type"), max_length=32, choices=UserType.choices, default=UserType.PATIENT
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # Reminders and quiet hours are evaluated in this zone, not the server's.
    timezone = TimeZoneField(_("time zone"), default=DEFAULT_TIME_ZONE, use_pytz=False)
    # Stored in E.164 (+27821234567); local South African numbers are accepted on input.
    phone = PhoneNumberField(_("phone number"), blank=True, region="ZA")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["user_type", "is_active"], name="user_type_active_idx")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username
