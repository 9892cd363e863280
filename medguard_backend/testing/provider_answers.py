"""What each provider answers, as its documentation shows, for the loopback stand-ins.

Default routes take every message (with a fresh provider id); the ``*_error`` helpers
build the documented refusals a test scripts with ``ProviderServer.script``.
"""

from __future__ import annotations

import itertools
from typing import Any

from .providers import Answer, ProviderServer, ReceivedRequest, Responder

_ids = itertools.count(1)

# Credentials the stand-ins accept, one set per SMS gateway.
GATEWAY_CREDENTIALS = {
    "CLICKATELL_API_KEY": "ct-key",
    "BULKSMS_TOKEN_ID": "bs-id",
    "BULKSMS_TOKEN_SECRET": "bs-secret",
    "AFRICASTALKING_USERNAME": "medguard",
    "AFRICASTALKING_API_KEY": "at-key",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "tw-token",
    "TWILIO_FROM": "+15005550006",
}
GATEWAY_URL_SETTINGS = (
    "CLICKATELL_API_URL",
    "BULKSMS_API_URL",
    "AFRICASTALKING_API_URL",
    "TWILIO_API_URL",
)


def send_email_through_ses_at(settings: Any, url: str, **anymail: Any) -> None:
    """Email through anymail's Amazon SES backend to the stand-in at ``url`` (``anymail``:
    more ANYMAIL settings, e.g. WEBHOOK_SECRET)."""
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "MedGuard <noreply@medguard.example>"
    settings.ANYMAIL = {
        "AMAZON_SES_CLIENT_PARAMS": {
            "endpoint_url": url,
            "region_name": "af-south-1",
            "aws_access_key_id": "AKIDSTANDIN0000000000",
            "aws_secret_access_key": "stand-in-secret",
            # One try: the pipeline retries, not boto3 inside one send.
            "config": {"retries": {"total_max_attempts": 1}},
        },
        **anymail,
    }


def point_gateways_at(settings: Any, url: str) -> None:
    """Give every SMS gateway the stand-in's credentials and ``url`` as its base URL
    (``settings``: pytest-django's fixture; SMS_BACKENDS still chooses which are used)."""
    for name, value in GATEWAY_CREDENTIALS.items():
        setattr(settings, name, value)
    for name in GATEWAY_URL_SETTINGS:
        setattr(settings, name, url)


def _next_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):08d}"


# --- Clickatell Platform (One API) ---


def clickatell_accepts(request: ReceivedRequest) -> Answer:
    messages = request.json()["messages"]
    return Answer(
        202,
        {
            "messages": [
                {"apiMessageId": _next_id("ct"), "accepted": True, "to": m["to"], "error": None}
                for m in messages
            ],
            "error": None,
        },
    )


def clickatell_message_error(code: int, description: str, to: str = "27000000000") -> Answer:
    return Answer(
        202,
        {
            "messages": [
                {
                    "apiMessageId": None,
                    "accepted": False,
                    "to": to,
                    "error": {"code": code, "description": description, "documentation": ""},
                }
            ],
            "error": None,
        },
    )


def clickatell_refusing(errors: dict[str, tuple[int, str]]) -> Responder:
    """Clickatell taking a request of several messages and answering each on its own, as
    documented: those to a number in ``errors`` (without its "+") refused with that
    (code, description), the others accepted."""

    def answer(request: ReceivedRequest) -> Answer:
        answered = []
        for item in request.json()["messages"]:
            if item["to"] in errors:
                code, description = errors[item["to"]]
                error = {"code": code, "description": description, "documentation": ""}
                answered.append(
                    {"apiMessageId": None, "accepted": False, "to": item["to"], "error": error}
                )
            else:
                answered.append(
                    {"apiMessageId": _next_id("ct"), "accepted": True, "to": item["to"]}
                    | {"error": None}
                )
        return Answer(202, {"messages": answered, "error": None})

    return answer


def clickatell_request_error(status: int, code: int, description: str) -> Answer:
    return Answer(
        status,
        {"messages": [], "error": {"code": code, "description": description, "documentation": ""}},
    )


# --- BulkSMS JSON REST v1 ---


def bulksms_accepts(request: ReceivedRequest) -> Answer:
    sent = request.json()
    items = sent if isinstance(sent, list) else [sent]
    return Answer(
        201,
        [
            {
                "id": _next_id("bs"),
                "type": "SENT",
                "from": item.get("from", ""),
                "to": item["to"],
                "body": item["body"],
                "encoding": item.get("encoding", "TEXT"),
                "protocolId": 0,
                "messageClass": 2,
                "submission": {"id": _next_id("sub"), "date": "2026-11-30T10:00:00Z"},
                "status": {"id": "ACCEPTED.null", "type": "ACCEPTED", "subtype": None},
                "relatedSentMessageId": None,
                "userSuppliedId": item.get("userSuppliedId"),
            }
            for item in items
        ],
    )


def bulksms_failing(numbers: set[str]) -> Responder:
    """BulkSMS taking an array of messages and answering each: those to ``numbers`` with
    the status ``FAILED`` (as for a number its routing rejects), the others accepted."""

    def answer(request: ReceivedRequest) -> Answer:
        taken = bulksms_accepts(request)
        for item in taken.body:
            if item["to"] in numbers:
                item["status"] = {"id": "FAILED.REJECTED", "type": "FAILED", "subtype": None}
        return taken

    return answer


def bulksms_problem(status: int, title: str, detail: str, kind: str = "invalid-request") -> Answer:
    return Answer(
        status,
        {
            "type": f"https://developer.bulksms.com/json/v1/errors#{kind}",
            "title": title,
            "status": status,
            "detail": detail,
        },
        headers={"Content-Type": "application/problem+json"},
    )


# --- Africa's Talking SMS ---


def africastalking_accepts(request: ReceivedRequest) -> Answer:
    form = request.form()
    return Answer(
        201,
        {
            "SMSMessageData": {
                "Message": "Sent to 1/1 Total Cost: ZAR 0.3500",
                "Recipients": [
                    {
                        "statusCode": 101,
                        "number": form["to"],
                        "status": "Success",
                        "cost": "ZAR 0.3500",
                        "messageId": _next_id("ATXid_"),
                    }
                ],
            }
        },
    )


def africastalking_recipient_error(code: int, status: str, number: str = "+27000000000") -> Answer:
    return Answer(
        201,
        {
            "SMSMessageData": {
                "Message": "Sent to 0/1 Total Cost: 0",
                "Recipients": [
                    {"statusCode": code, "number": number, "status": status, "cost": "0"}
                ],
            }
        },
    )


# --- Twilio Messages ---


def twilio_accepts(request: ReceivedRequest) -> Answer:
    form = request.form()
    return Answer(
        201,
        {
            "sid": _next_id("SM"),
            "status": "queued",
            "to": form["To"],
            "from": form["From"],
            "body": form["Body"],
            "num_segments": "1",
            "error_code": None,
            "error_message": None,
        },
    )


def twilio_error(status: int, code: int, message: str) -> Answer:
    return Answer(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


# --- Expo push ---


def expo_accepts(request: ReceivedRequest) -> Answer:
    sent = request.json()
    items = sent if isinstance(sent, list) else [sent]
    return Answer(200, {"data": [{"status": "ok", "id": _next_id("ticket-")} for _ in items]})


def expo_ticket_error(error: str, message: str = "") -> dict[str, Any]:
    return {"status": "error", "message": message or error, "details": {"error": error}}


def expo_receipts_ok(request: ReceivedRequest) -> Answer:
    return Answer(200, {"data": {ticket: {"status": "ok"} for ticket in request.json()["ids"]}})


# --- Postmark (email, through django-anymail) ---


def postmark_accepts(request: ReceivedRequest) -> Answer:
    sent = request.json()
    return Answer(
        200,
        {
            "To": sent["To"],
            "SubmittedAt": "2026-11-30T10:00:00.0000000Z",
            "MessageID": f"pm-{next(_ids):08d}-0000-0000-0000-000000000000",
            "ErrorCode": 0,
            "Message": "OK",
        },
    )


def postmark_error(status: int, code: int, message: str) -> Answer:
    return Answer(status, {"ErrorCode": code, "Message": message})


# --- Amazon SES v2 (email, through django-anymail and boto3) ---


def ses_accepts(request: ReceivedRequest) -> Answer:
    """SendEmail (``POST /v2/email/outbound-emails``) takes the message: 200 with its id."""
    sent = request.json()
    if "Raw" not in sent.get("Content", {}) and "Simple" not in sent.get("Content", {}):
        return Answer(
            400,
            {"message": "Content is required"},
            headers={"x-amzn-ErrorType": "BadRequestException"},
        )
    return Answer(200, {"MessageId": f"0107019{next(_ids):09d}-stand-in-000000"})


def ses_error(status: int, error_type: str, message: str) -> Answer:
    return Answer(status, {"message": message}, headers={"x-amzn-ErrorType": error_type})


def install_default_routes(server: ProviderServer) -> None:
    server.route("POST", "/v1/message", clickatell_accepts)
    server.route("POST", "/v1/messages", bulksms_accepts)
    server.route("POST", "/version1/messaging", africastalking_accepts)
    server.route("POST", "/2010-04-01/Accounts/", twilio_accepts)
    server.route("POST", "/--/api/v2/push/send", expo_accepts)
    server.route("POST", "/--/api/v2/push/getReceipts", expo_receipts_ok)
    server.route("POST", "/email", postmark_accepts)
    server.route("POST", "/v2/email/outbound-emails", ses_accepts)
    # Web Push: the push service takes the encrypted payload and answers 201 Created.
    server.route("POST", "/webpush/", lambda request: Answer(201, None))
