"""Phone numbers and email addresses taken out of a text before it is stored (pure).

A provider's error or report text may echo the recipient ("The 'To' number +27821234567 is
not a valid phone number", "550 5.1.1 <thandi@example.org>: user unknown"). The transports
build their reasons from fixed words and codes, but what they store must stay free of
contact details whatever a provider or a future transport puts in it: every
``TransportError`` reason and every receipt's detail passes through ``redact_contact_details``.
"""

from __future__ import annotations

import re

# A number: 9 to 15 digits (E.164's most), optionally after "+", optionally grouped by
# single spaces, dots, dashes or brackets: +27 82 123 4567, 0821234567, 27821234567,
# (082) 123-4567. Shorter digit runs (HTTP statuses, provider error codes) and digits
# inside an identifier (delivery-123456789012, a/123456789) stay.
_PHONE = r"(?<![\w+/-])\+?\(?\d(?:[ .()-]{0,2}\d){8,14}(?!\w)"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_CONTACT_DETAILS = re.compile(f"{_EMAIL}|{_PHONE}")

REDACTED = "[redacted]"


def redact_contact_details(text: str) -> str:
    """``text`` with every phone number and email address replaced by ``[redacted]``."""
    return _CONTACT_DETAILS.sub(REDACTED, text)
