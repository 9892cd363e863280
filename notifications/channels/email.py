"""Email through Django's email framework (``EMAIL_BACKEND``; SMTP in production)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import smtplib
from email.utils import parseaddr

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email

from .base import OutcomeUnknown, OutgoingMessage, SendReceipt, Transport, TransportError

logger = logging.getLogger(__name__)

# "550 5.1.1 <someone@example.org>: mailbox unavailable": only the enhanced status code
# is kept, because servers echo the address (and sometimes the content) in their text.
_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def message_id_for(message: OutgoingMessage) -> str:
    """The same Message-ID for every send of one delivery, so that a resend after a crash
    is recognised as a duplicate by mail clients.

    The domain is DEFAULT_FROM_EMAIL's rather than the host's DNS_NAME (Django's default),
    which differs from worker to worker.
    """
    key = message.idempotency_key or f"delivery-{message.delivery_id}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "medguard-sa"
    return f"<{message.stable_name}.{digest}@{domain}>"


def _status(code: int, server_text: bytes | str) -> str:
    text = server_text.decode(errors="replace") if isinstance(server_text, bytes) else server_text
    match = _ENHANCED_STATUS.match(text)
    return f"SMTP {code} {match.group(1)}" if match else f"SMTP {code}"


def classify_smtp_error(error: smtplib.SMTPException) -> TransportError:
    """Turn what smtplib raised while sending one message into a ``TransportError``."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # One recipient per message, so the one answer decides.
        code, text = next(iter(error.recipients.values()), (0, b""))
        return TransportError(f"{_status(code, text)} recipient refused", permanent=code >= 500)
    if isinstance(error, smtplib.SMTPSenderRefused):
        reason = f"{_status(error.smtp_code, error.smtp_error)} sender refused"
        return TransportError(reason, permanent=error.smtp_code >= 500)
    if isinstance(error, smtplib.SMTPDataError):
        reason = f"{_status(error.smtp_code, error.smtp_error)} message refused"
        return TransportError(reason, permanent=error.smtp_code >= 500)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransportError("SMTP server disconnected", permanent=False)
    if isinstance(error, smtplib.SMTPResponseException):
        # HELO or AUTH refused while reconnecting: the server's or our configuration's
        # problem, not this message's, so it must not fail the delivery for good.
        reason = f"{_status(error.smtp_code, error.smtp_error)} {type(error).__name__}"
        return TransportError(reason, permanent=False)
    return TransportError(f"SMTP error: {type(error).__name__}", permanent=False)


def esp_name(backend: BaseEmailBackend) -> str:
    """ "Postmark", "Amazon SES" -> "postmark", "amazon_ses" (as receipts name them)."""
    return str(getattr(backend, "esp_name", "smtp")).lower().replace(" ", "_")[:20]


def classify_esp_error(error: AnymailError) -> TransportError:
    """An email service provider's refusal (anymail): the recipient refused or the message
    rejected (4xx other than auth and rate limits) is permanent; the rest is temporary."""
    name = type(error).__name__
    if isinstance(error, AnymailRecipientsRefused | AnymailInvalidAddress):
        return TransportError(f"email provider refused the recipient ({name})", permanent=True)
    status = getattr(error, "status_code", None)
    if isinstance(error, AnymailAPIError) and status is not None:
        permanent = 400 <= status < 500 and status not in (401, 403, 408, 429)
        return TransportError(f"email provider answered HTTP {status}", permanent=permanent)
    if isinstance(error, AnymailAPIError) and isinstance(error.response, dict):
        return _classify_aws_error(error.response)
    cause = type(error.__cause__).__name__
    if cause in _AWS_NO_ANSWER:
        # boto3 wrote the request and got nothing back: SES may have taken it.
        return OutcomeUnknown(f"email provider gave no answer: {cause}", provider="amazon_ses")
    return TransportError(f"email provider error: {name}", permanent=False)


# botocore's errors for a request that was sent and never answered.
_AWS_NO_ANSWER = frozenset({"ReadTimeoutError", "ConnectionClosedError"})
# Amazon SES answers these with 400, yet they are about our account, not the message: the
# same message goes through once the account is in order.
_SES_ACCOUNT_ERRORS = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "LimitExceededException",
        "TooManyRequestsException",
    }
)


def _classify_aws_error(response: dict) -> TransportError:
    """Amazon SES through boto3: anymail hands on botocore's parsed error (no HTTP status
    of its own). Its error code is an AWS name, never the address or the text."""
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(response.get("Error", {}).get("Code", ""))[:60]
    permanent = (
        isinstance(status, int)
        and 400 <= status < 500
        and status not in (401, 403, 408, 429)
        and code not in _SES_ACCOUNT_ERRORS
    )
    return TransportError(
        f"email provider answered HTTP {status} ({code or 'no error code'})", permanent=permanent
    )


class EmailTransport(Transport):
    """Sends a batch over one connection of the configured email backend.

    A connection that breaks mid-batch is reopened for the next message. A connection
    that cannot be opened is tried once per batch: every send then fails fast as a
    temporary error rather than waiting EMAIL_TIMEOUT per message, and the deliveries are
    retried with back-off.
    """

    channel = "email"

    def __init__(self) -> None:
        self._backend: BaseEmailBackend = get_connection(fail_silently=False)
        self._connected = False
        self._connect_failure: TransportError | None = None

    def open(self) -> None:
        self._connect()

    def close(self) -> None:
        self._disconnect()
        self._connect_failure = None

    def send(self, message: OutgoingMessage) -> SendReceipt:
        try:
            validate_email(message.to)
        except ValidationError:
            raise TransportError("invalid email address", permanent=True) from None
        message_id = message_id_for(message)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={
                "Message-ID": message_id,
                "Content-Language": message.language,
                # RFC 3834: tells vacation responders not to answer a reminder.
                "Auto-Submitted": "auto-generated",
            },
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")

        if self._smtp_socket_closed():
            self._disconnect()
        self._connect()
        if self._connect_failure is not None:
            raise self._connect_failure
        try:
            sent = self._backend.send_messages([email])
        except BadHeaderError:
            raise TransportError("invalid email header", permanent=True) from None
        except AnymailError as error:
            raise classify_esp_error(error) from None
        except smtplib.SMTPException as error:
            if isinstance(error, smtplib.SMTPServerDisconnected):
                self._drop_broken_connection(message)
            raise classify_smtp_error(error) from None
        except OSError as error:  # refused, reset, timed out (socket.timeout is one)
            self._drop_broken_connection(message)
            raise TransportError(
                f"connection error: {type(error).__name__}", permanent=False
            ) from None
        if not sent:
            raise TransportError("email backend did not send the message", permanent=False)
        # An email service provider (anymail) gives its own id, which its events carry.
        esp_status = getattr(email, "anymail_status", None)
        esp_id = getattr(esp_status, "message_id", None)
        if esp_id:
            return SendReceipt(provider_message_id=str(esp_id), provider=esp_name(self._backend))
        return SendReceipt(provider_message_id=message_id)

    def _connect(self) -> None:
        if self._connected or self._connect_failure is not None:
            return
        try:
            self._backend.open()
        except (OSError, smtplib.SMTPException) as error:
            self._connect_failure = TransportError(
                f"SMTP connection failed: {type(error).__name__}", permanent=False
            )
            logger.warning("SMTP connection failed: %s", type(error).__name__)
            return
        self._connected = True

    def _disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        # QUIT on a dead connection fails; Django's backend has forgotten it either way.
        with contextlib.suppress(OSError):
            self._backend.close()

    def _drop_broken_connection(self, message: OutgoingMessage) -> None:
        logger.info(
            "SMTP connection lost sending delivery %s; reconnecting for the next message",
            message.delivery_id,
        )
        self._disconnect()

    def _smtp_socket_closed(self) -> bool:
        # smtplib closes its socket by itself after a 421 reply or a failed RSET without
        # telling Django's backend; sending on it would fail a message that a new
        # connection can deliver.
        smtp = getattr(self._backend, "connection", None)
        return smtp is not None and getattr(smtp, "sock", True) is None
