"""The consent wording a person is shown, with its version.

A record keeps the version the person agreed to, so a change of wording is a new version
(bump it here) and consent given to an older text is still traceable to the text it was.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Purpose

CONSENT_WORDING: dict[str, tuple[str, Promise]] = {
    Purpose.EMAIL_REMINDERS: (
        "2026-11-email-1",
        _(
            "MedGuard may email me reminders to take my medication and alerts about my "
            "supply. I can withdraw this at any time."
        ),
    ),
    Purpose.PUSH_REMINDERS: (
        "2026-11-push-1",
        _(
            "MedGuard may send reminders and supply alerts to my phone or browser as push "
            "notifications. I can withdraw this at any time."
        ),
    ),
    Purpose.SMS_REMINDERS: (
        "2026-11-sms-1",
        _(
            "MedGuard may send reminders and supply alerts to my phone number by SMS, through "
            "an SMS gateway. Reply STOP to withdraw at any time."
        ),
    ),
    Purpose.CAREGIVER_SHARING: (
        "2026-11-caregiver-1",
        _(
            "The caregivers I link may see my doses and, where I allow it, my medicines, and "
            "are told when I miss a dose. I can withdraw this at any time."
        ),
    ),
    Purpose.STAFF_BROADCASTS: (
        "2026-11-news-1",
        _(
            "The clinic may send me news, offers and surveys. This is optional and I can "
            "withdraw at any time."
        ),
    ),
}


def current_version(purpose: str) -> str:
    return CONSENT_WORDING[Purpose(purpose)][0]


def wording(purpose: str) -> str:
    return str(CONSENT_WORDING[Purpose(purpose)][1])
