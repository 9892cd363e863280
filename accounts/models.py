from __future__ import annotations

from typing import Any, Self

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from timezone_field import TimeZoneField

from privacy.encryption.fields import BlindIndexField, EncryptedPhoneNumberField

DEFAULT_TIME_ZONE = "Africa/Johannesburg"
_NOT_LOADED = object()


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
    # E.164 (+27821234567), encrypted at rest; local South African numbers are accepted on
    # input. Found by value (an inbound SMS's sender) through ``phone_index``.
    phone = EncryptedPhoneNumberField(_("phone number"), blank=True, region="ZA")
    # Also what the fan-out reads to know whether a user has a number: a hash compares
    # with "" without decrypting 100,000 numbers.
    phone_index = BlindIndexField(source="phone", db_index=True)
    # No SMS goes to a number until it is known to reach this person: proven with a code
    # (accounts/phones.py), or set by staff (admin, import). Changing the number by any
    # other way clears it (save() below).
    phone_verified = models.BooleanField(
        _("phone number verified"),
        default=False,
        # Also in the table, so rows written by COPY or raw SQL (bench/) start unverified.
        db_default=False,
        help_text=_("SMS messages are sent only to a verified number."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["user_type", "is_active"], name="user_type_active_idx")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Self:
        user = super().from_db(db, field_names, values)
        user._stored_phone = user.__dict__.get("phone", _NOT_LOADED)
        return user

    def set_phone(self, number: object, *, verified: bool) -> None:
        """Set the number and say whether it is known to reach this person: ``verified``
        for staff (admin, import) and a confirmed code; a number the user typed is not."""
        # The field's descriptor parses it (PhoneNumberDescriptor); the stubs do not know it.
        self.phone = number  # type: ignore[assignment]
        self.phone_verified = verified and bool(number)
        self._phone_vouched = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = getattr(self, "_stored_phone", _NOT_LOADED)
        update_fields = kwargs.get("update_fields")
        saves_phone = update_fields is None or "phone" in update_fields
        changed = stored is not _NOT_LOADED and str(self.phone or "") != str(stored or "")
        if saves_phone and changed and not getattr(self, "_phone_vouched", False):
            # A new number is unproven until verified: it may be mistyped, or someone else's.
            self.phone_verified = False
            if update_fields is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "phone_verified"}
        if saves_phone and update_fields is not None:
            # The blind index follows the number it hashes (BlindIndexField.pre_save).
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_index"}
        super().save(*args, **kwargs)
        if saves_phone:
            self._stored_phone = self.phone
        self._phone_vouched = False


class PhoneVerification(models.Model):
    """The one outstanding SMS code of a user: only its keyed hash is stored, it expires,
    and it allows a few attempts (accounts/phones.py)."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="phone_verification", verbose_name=_("user")
    )
    # The number the code was sent to: a code proves only that number.
    phone = EncryptedPhoneNumberField(_("phone number"), region="ZA")
    code_hash = models.CharField(max_length=128)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")

    def __str__(self) -> str:
        return f"phone verification of user {self.user_id}"
