"""What the SMS gateways share: the settings every one reads and the shape of a gateway."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings

from ..base import OutgoingMessage
from ..http import HttpProvider
from .numbers import needs_ucs2


class SMSGateway(HttpProvider):
    """One SMS gateway. ``credentials`` names the settings that must be set for it to be
    used (the system check ``notifications.E001`` reports the missing ones)."""

    credentials: ClassVar[tuple[str, ...]]
    url_setting: ClassVar[str]

    @property
    def base_url(self) -> str:
        return str(getattr(settings, self.url_setting)).rstrip("/")

    @staticmethod
    def sender_id() -> str:
        return str(settings.SMS_SENDER_ID)

    @staticmethod
    def validity_minutes() -> int:
        return int(settings.SMS_VALIDITY_MINUTES)

    @staticmethod
    def unicode(message: OutgoingMessage) -> bool:
        return needs_ucs2(message.text)
