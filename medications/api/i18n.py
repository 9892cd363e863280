"""Django REST framework's messages that this API can return beyond those the notifications
API already lists (``notifications.api.i18n.DRF_MESSAGES``); DRF ships no Afrikaans
catalogue, so they are marked here to be kept, translated, in locale/af."""

from __future__ import annotations

from django.utils.translation import gettext_noop

DRF_MESSAGES = (
    gettext_noop("A valid integer is required."),
    gettext_noop("A valid number is required."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop("Ensure that there are no more than {max_decimal_places} decimal places."),
    gettext_noop(
        "Ensure that there are no more than {max_whole_digits} digits before the decimal point."
    ),
    gettext_noop("String value too large."),
    gettext_noop("Date has wrong format. Use one of these formats instead: {format}."),
)
