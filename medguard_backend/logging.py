"""Logging filters."""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

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


# Push credentials: an Expo token (raw or percent-encoded, as in a request path), any other
# token in a `/push-tokens/<token>` path (an FCM registration token has no marker of its
# own), a Web Push endpoint passed as `endpoint=` (its query parameter, or a key=value in a
# message), and a push service's URL (the endpoint itself).
_PUSH_CREDENTIALS = re.compile(
    r"(?P<expo>Expo(?:nent)?PushToken)(?:\[|%5B)(?:(?!%5D)[^\]\s\"'])*(?:\]|%5D)?"
    r"|(?P<path>/push-tokens/)(?!Expo)[^/\s\"'?]+"
    r"|(?P<param>endpoint=)[^&\s\"']+"
    r"|https?(?::|%3A)(?://|%2F%2F)[^\s\"'&/%]*(?:push|fcm|notify)[^\s\"'&]*",
    re.IGNORECASE,
)


def redact_push_credentials(text: str) -> str:
    """``text`` with every push token and Web Push endpoint replaced by a placeholder that
    still says what kind of value stood there."""

    def placeholder(match: re.Match[str]) -> str:
        if match.group("expo"):
            return f"{match.group('expo')}[redacted]"
        if match.group("param"):
            return f"{match.group('param')}[redacted]"
        if match.group("path"):
            return f"{match.group('path')}[redacted]"
        return "[redacted push endpoint]"

    return _PUSH_CREDENTIALS.sub(placeholder, text)


class RedactPushCredentials(logging.Filter):
    """Replace push tokens and Web Push endpoints in a record's message.

    They are credentials: whoever has one can push to the device. They reach logs through
    request paths (``django.request``'s "Not Found: /api/push-tokens/ExponentPushToken[…]/",
    the development server's and gunicorn's access lines) and query strings. Attached to the
    loggers that write them (so no handler sees the token) and to every handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_push_credentials(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with push credentials taken out of the access log's request line,
    path and query string (``gunicorn.conf.py`` selects it)."""

    def atoms(self, resp: object, req: object, environ: dict, request_time: object) -> dict:
        values = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(values.get(key), str):
                values[key] = redact_push_credentials(values[key])
        return values
