from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last sign of life of one thing: ``beat`` (written by a task beat schedules) or
    ``queue:<name>`` (written by every worker consuming that queue). One row each, updated
    in place, so the table stays a handful of rows however many workers there are."""

    key = models.CharField(_("key"), max_length=100, primary_key=True)
    beat_at = models.DateTimeField(_("last heartbeat"))
    hostname = models.CharField(_("host"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.key} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
