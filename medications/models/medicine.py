from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from medications.units import Unit
from privacy.encryption.fields import BlindIndexField, EncryptedCharField, index_field


class MedicineManager(models.Manager["Medicine"]):
    def get_or_create_named(self, name: str, **fields: object) -> tuple[Medicine, bool]:
        """The catalogue's entry for ``name`` with these ``fields`` (strength, form): the
        name is encrypted, so it is found by its blind index."""
        index = index_field(Medicine, "name")
        return self.get_or_create(
            defaults={"name": name}, **{f"{index.name}__in": index.indexes_of(name)}, **fields
        )


class Medicine(models.Model):
    """A medicine as a pharmacist names it: name, strength and form. The name is encrypted
    at rest (with the patient's supply it says what they are treated for), so the catalogue
    is ordered by id, and people see medicines sorted by name in Python (a patient has a
    handful)."""

    class Form(models.TextChoices):
        TABLET = "tablet", _("Tablet")
        CAPSULE = "capsule", _("Capsule")
        SYRUP = "syrup", _("Syrup")
        INJECTION = "injection", _("Injection")
        INHALER = "inhaler", _("Inhaler")
        DROPS = "drops", _("Drops")
        CREAM = "cream", _("Cream")
        OTHER = "other", _("Other")

    name = EncryptedCharField(_("name"), max_length=200)
    name_index = BlindIndexField(source="name")
    strength = models.CharField(_("strength"), max_length=50, blank=True)
    form = models.CharField(_("form"), max_length=20, choices=Form.choices, default=Form.TABLET)

    objects = MedicineManager()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("medicine")
        verbose_name_plural = _("medicines")
        constraints = [
            models.UniqueConstraint(
                fields=["name_index", "strength", "form"], name="unique_medicine"
            ),
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.name, self.strength) if part)

    def clean(self) -> None:
        # The unique constraint is on the name's blind index, which forms do not show, so
        # Django's own check of it is skipped: a second entry of the same medicine would
        # only fail at the INSERT.
        super().clean()
        index = index_field(Medicine, "name")
        twins = Medicine.objects.filter(
            strength=self.strength,
            form=self.form,
            **{f"{index.name}__in": index.indexes_of(self.name)},
        ).exclude(pk=self.pk)
        if twins.exists():
            raise self.unique_error_message(Medicine, ("name", "strength", "form"))


class Supply(models.Model):
    """A patient's stock of one medicine: what they hold, how they take it, when it expires."""

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="supplies",
        verbose_name=_("patient"),
    )
    medicine = models.ForeignKey(
        Medicine, on_delete=models.PROTECT, related_name="supplies", verbose_name=_("medicine")
    )
    # Encrypted at rest: free text that may say what the medicine is for.
    dosage = EncryptedCharField(_("dosage"), max_length=100, help_text=_("e.g. 1 tablet"))
    instructions = EncryptedCharField(_("instructions"), max_length=300, blank=True)
    quantity_on_hand = models.DecimalField(
        _("quantity on hand"),
        max_digits=10,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
    )
    unit = models.CharField(_("unit"), max_length=30, choices=Unit.choices, default=Unit.TABLETS)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    # The seed's "5-day warning": stock and expiry alerts this many days ahead.
    warning_days = models.PositiveSmallIntegerField(
        _("warning horizon (days)"), default=5, validators=[MaxValueValidator(90)]
    )
    # Raised by every restock: a low-stock alert is sent once per episode, and the episode
    # ends when the patient restocks.
    stock_episode = models.PositiveIntegerField(_("stock episode"), default=1)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["patient", "pk"]
        verbose_name = _("supply")
        verbose_name_plural = _("supplies")
        indexes = [
            models.Index(
                fields=["expiry_date"], condition=models.Q(active=True), name="supply_expiry_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_on_hand__gte=0), name="supply_quantity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} for patient {self.patient_id}"

    def days_until_expiry(self, today: datetime.date) -> int | None:
        return None if self.expiry_date is None else (self.expiry_date - today).days
