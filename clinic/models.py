"""Daily rollups the staff dashboard reads, so that it answers in milliseconds whatever the
size of the delivery, dose and recipient tables (``rollups.py`` keeps them current).

A day is a calendar day in the server's zone (``TIME_ZONE``, Africa/Johannesburg): a
clinic reads its figures by its own days.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryDay(models.Model):
    """Deliveries created on ``day`` on one channel, counted by their status."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=10)
    status = models.CharField(_("status"), max_length=12)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("deliveries of a day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "status"], name="one_delivery_count_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} {self.status}: {self.count}"


class FailureDay(models.Model):
    """Failed deliveries of a day by channel and reason (the stored error, which never
    holds an address or a message body)."""

    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=10)
    reason = models.CharField(_("reason"), max_length=200)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("failures of a day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "reason"], name="one_failure_count_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel} failed ({self.reason}): {self.count}"


class ResponseDay(models.Model):
    """How soon the recipients of a day's in-app notifications read (or acknowledged) them,
    counted in buckets (``responses.BUCKETS``)."""

    day = models.DateField(_("day"))
    response = models.CharField(_("response"), max_length=12)  # read / acknowledged
    bucket = models.CharField(_("within"), max_length=8)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("responses of a day")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "response", "bucket"], name="one_response_count_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.response} within {self.bucket}: {self.count}"


class DoseDay(models.Model):
    """Doses due on ``day`` counted by status: the adherence chart."""

    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("doses of a day")
        constraints = [models.UniqueConstraint(fields=["day", "status"], name="one_dose_count")]

    def __str__(self) -> str:
        return f"{self.day} doses {self.status}: {self.count}"


class RollupMark(models.Model):
    """Where the next refresh of a source starts: the first row id of the oldest day still
    open. Rows only ever get larger ids, so a refresh reads the open days by a primary-key
    range instead of the whole table (and needs no index on the date)."""

    source = models.CharField(_("source"), max_length=20, primary_key=True)
    day = models.DateField(_("first open day"))
    first_id = models.BigIntegerField(_("first id of that day"))
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("rollup mark")

    def __str__(self) -> str:
        return f"{self.source} from {self.day} (id {self.first_id})"
