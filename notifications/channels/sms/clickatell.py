"""Clickatell's Platform (One API) REST interface: ``POST /v1/message``.

The API key goes in the ``Authorization`` header as it is. The request's ``messages``
array carries up to ``max_per_request`` distinct messages, each with its own ``to`` and
``content``; the answer's ``messages`` array says, in the same order, whether each was
accepted and carries its ``apiMessageId`` or its own ``error``. Our delivery key travels
as ``clientMessageId`` and comes back on every status callback, so a callback finds the
delivery even when the send's own answer was lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from ..base import OutgoingMessage, SendOutcome, SendReceipt, TransportError
from ..http import MultiMessageProvider, ProviderAnswer, ProviderRequest
from .gateway import SMSGateway

# Clickatell's documented error codes that are about the number itself; every other code
# (credits, a sender id not registered, routing) is this gateway's problem, not the
# message's, and the next gateway may succeed.
_NUMBER_ERRORS = {
    105: "invalid destination address",
    121: "destination number blocked (opted out)",
    128: "number delisted",
}


class Clickatell(SMSGateway, MultiMessageProvider):
    name = "clickatell"
    credentials = ("CLICKATELL_API_KEY",)
    url_setting = "CLICKATELL_API_URL"

    def _item(self, message: OutgoingMessage) -> dict[str, Any]:
        item: dict[str, Any] = {
            "channel": "sms",
            "to": message.to.removeprefix("+"),
            "content": message.text,
            "clientMessageId": message.idempotency_key,
            "validityPeriod": self.validity_minutes(),
            "charset": "UCS2" if self.unicode(message) else "GSM",
        }
        if self.sender_id():
            item["from"] = self.sender_id()
        return item

    def build_group_request(self, messages: Sequence[OutgoingMessage]) -> ProviderRequest:
        return ProviderRequest(
            "POST",
            f"{self.base_url}/v1/message",
            headers={"Authorization": settings.CLICKATELL_API_KEY, "Accept": "application/json"},
            json={"messages": [self._item(message) for message in messages]},
        )

    def read_group_answer(
        self, messages: Sequence[OutgoingMessage], answer: ProviderAnswer
    ) -> list[SendOutcome]:
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        items = body.get("messages")
        per_message = answer.status_code in (200, 202) or (
            answer.status_code == 400 and not body.get("error")
        )
        if per_message and isinstance(items, list) and items:
            if len(items) != len(messages):
                # Taken, but which message is which cannot be told: none is resent blindly.
                raise self.unreadable(len(items), len(messages))
            return [self._outcome(item) for item in items]
        error = body.get("error")
        if isinstance(error, dict) and answer.status_code < 500 and answer.status_code != 429:
            raise self._error(error)
        raise self.refusal(answer)

    def _outcome(self, item: object) -> SendOutcome:
        item = item if isinstance(item, dict) else {}
        if item.get("accepted") and item.get("apiMessageId"):
            return SendReceipt(str(item["apiMessageId"]))
        error = item.get("error")
        if isinstance(error, dict):
            return self._error(error)
        return TransportError("clickatell: message not accepted", permanent=False)

    def _error(self, error: dict[str, Any]) -> TransportError:
        try:
            code = int(error.get("code", 0))
        except (TypeError, ValueError):
            code = 0
        if code in _NUMBER_ERRORS:
            return TransportError(f"clickatell {code}: {_NUMBER_ERRORS[code]}", permanent=True)
        # The description names a parameter or our account, never the recipient's number.
        description = str(error.get("description", ""))[:120]
        return TransportError(f"clickatell {code}: {description}", permanent=False)
