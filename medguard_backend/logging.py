"""Logging filters."""

from __future__ import annotations

import logging
import re

# Phone numbers (+27 82 123 4567, 0821234567) and email addresses.
_CONTACT_DETAILS = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ -]?\d{2}[ -]?\d{3}[ -]?\d{3,6}|0\d{2}[ -]?\d{3}[ -]?\d{4})(?!\w)"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+",
)


class RedactContactDetails(logging.Filter):
    """Replace phone numbers and email addresses in a record's message with ``[redacted]``.

    The project's own code logs ids only; this is the safety net for a third-party
    library's message (an SMTP error quoting the recipient, say).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _CONTACT_DETAILS.sub("[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
