from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _


class TemplatePart(models.TextChoices):
    """The pieces a message is made of. Files live at
    ``notifications/<event>/<part>`` (``title.txt``, ``email.html``, ...)."""

    TITLE = "title.txt", _("In-app title")
    CONTENT = "content.txt", _("In-app content")
    EMAIL_SUBJECT = "subject.txt", _("Email subject")
    EMAIL_TEXT = "email.txt", _("Email, plain text")
    EMAIL_HTML = "email.html", _("Email, HTML")
    SMS = "sms.txt", _("SMS")
    PUSH_TITLE = "push_title.txt", _("Push title")
    PUSH_BODY = "push.txt", _("Push body")


class NotificationTemplate(models.Model):
    """An override, edited in the admin, of one part of one event's message in one
    language. Without an active override the template file is used."""

    event = models.CharField(_("event"), max_length=64)
    language = models.CharField(
        _("language"), max_length=8, choices=[("en", _("English")), ("af", _("Afrikaans"))]
    )
    part = models.CharField(_("part"), max_length=20, choices=TemplatePart.choices)
    body = models.TextField(
        _("template"),
        help_text=_("Django template syntax; the variables are those of the template file."),
    )
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["event", "language", "part"]
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "language", "part"], name="one_template_per_event_language_part"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} / {self.language} / {self.part}"

    def clean(self) -> None:
        from notifications.events import EVENTS

        if self.event not in EVENTS:
            raise ValidationError(
                {"event": _("Unknown event “%(event)s”.") % {"event": self.event}}
            )
        try:
            Template(self.body)
        except TemplateSyntaxError as error:
            raise ValidationError({"body": str(error)}) from None
