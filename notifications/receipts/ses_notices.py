"""Amazon SES's events as Amazon SNS posts them: the shape checked before anymail reads it
(pure functions).

Anymail's SES tracking view trusts the body's shape: a body that is not JSON, a JSON list,
a ``Message`` that is a number or a ``bounce`` without ``bouncedRecipients`` raise inside
it (``AnymailAPIError``, ``AttributeError``, ``KeyError``, ``TypeError``), which Django
answers 500 — and SNS retries a 5xx for hours. ``check_sns_post`` reads the same fields
anymail reads and raises ``UnreadableNotice`` naming the first one that is missing or of
the wrong type (answered 400), so whatever reaches anymail is a body it can read.

The formats: SNS's HTTP/S message bodies (Notification, SubscriptionConfirmation,
UnsubscribeConfirmation) and SES's event publishing / notification contents (Send,
Delivery, Bounce, Complaint, Reject, Open, Click, Rendering Failure, DeliveryDelay…).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SNS_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
# The text SNS sends (as a Notification) once a configuration set's topic is validated.
TOPIC_VALIDATED = "Successfully validated SNS topic for Amazon SES event publishing."


class UnreadableNotice(ValueError):
    """The body is not an SNS post anymail's SES tracking view can read (answered 400)."""


def _object(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise UnreadableNotice(f"{name}: expected a JSON object")
    return value


def _text(mapping: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> None:
    if key not in mapping:
        if required:
            raise UnreadableNotice(f"{where}{key}: missing")
        return
    if not isinstance(mapping[key], str):
        raise UnreadableNotice(f"{where}{key}: expected a string")


def _list_of(mapping: Mapping[str, Any], key: str, where: str, *, objects_with: str = "") -> None:
    """``mapping[key]`` is a list of strings, or of objects with a string ``objects_with``."""
    items = mapping.get(key)
    if not isinstance(items, list):
        raise UnreadableNotice(f"{where}{key}: expected a list")
    for index, item in enumerate(items):
        if objects_with:
            _text(_object(item, f"{where}{key}[{index}]"), objects_with, f"{where}{key}[{index}].")
        elif not isinstance(item, str):
            raise UnreadableNotice(f"{where}{key}[{index}]: expected a string")


def check_sns_post(body: bytes) -> None:
    """Raise ``UnreadableNotice`` unless ``body`` is an SNS post of a known type whose SES
    event, if any, has every field anymail reads, of the type it reads it as."""
    try:
        sns = _object(json.loads(body.decode("utf-8")), "body")
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableNotice("body: not JSON") from error
    _text(sns, "Type", "")
    if sns["Type"] not in SNS_TYPES:
        raise UnreadableNotice(f"Type: expected one of {', '.join(SNS_TYPES)}")
    _text(sns, "MessageId", "")
    _text(sns, "Timestamp", "", required=False)
    if sns["Type"] == "SubscriptionConfirmation":
        _text(sns, "Token", "")
        _text(sns, "TopicArn", "")
        if len(sns["TopicArn"].split(":")) != 6:
            raise UnreadableNotice("TopicArn: not an ARN (arn:aws:sns:<region>:<account>:<topic>)")
    elif sns["Type"] == "Notification":
        _text(sns, "Message", "")
        if sns["Message"] != TOPIC_VALIDATED:
            check_ses_event(sns["Message"])


def check_ses_event(message: str) -> None:
    """The SES event inside a Notification's ``Message`` (itself a JSON text)."""
    try:
        event = _object(json.loads(message), "Message")
    except ValueError as error:
        raise UnreadableNotice("Message: not JSON") from error
    kind_key = "eventType" if "eventType" in event else "notificationType"
    _text(event, kind_key, "Message.")
    kind = event[kind_key]
    if kind == "Received":
        raise UnreadableNotice("Message: an inbound email, not a sending event")
    mail = _object(event.get("mail", {}), "Message.mail")
    _text(mail, "messageId", "Message.mail.")
    if "destination" in mail:
        _list_of(mail, "destination", "Message.mail.")
    if "headers" in mail:
        _list_of(mail, "headers", "Message.mail.", objects_with="name")
        for index, header in enumerate(mail["headers"]):
            _text(header, "value", f"Message.mail.headers[{index}].")
    if kind == "Rendering Failure":
        _text(_object(event.get("failure"), "Message.failure"), "errorMessage", "Message.failure.")
        return
    details_key = kind.lower()
    if details_key not in event and kind not in ("Bounce", "Complaint", "Delivery", "Reject"):
        return  # Send, Open, Click… carry nothing anymail needs beyond the mail object
    details = _object(event.get(details_key), f"Message.{details_key}")
    where = f"Message.{details_key}."
    if kind == "Bounce":
        _text(details, "bounceType", where)
        _text(details, "bounceSubType", where)
        _list_of(details, "bouncedRecipients", where, objects_with="emailAddress")
    elif kind == "Complaint":
        _list_of(details, "complainedRecipients", where, objects_with="emailAddress")
    elif kind == "Delivery":
        _list_of(details, "recipients", where)
    elif kind == "Reject":
        _text(details, "reason", where)
