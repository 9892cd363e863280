"""Clickatell's Platform (One API) REST interface: ``POST /v1/message``.

The API key goes in the ``Authorization`` header as it is. One message per request: the
answer's ``messages[0]`` says whether it was accepted and carries ``apiMessageId``. Our
delivery key travels as ``clientMessageId`` and comes back on every status callback, so a
callback finds the delivery even when the send's own answer was lost.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..base import OutgoingMessage, SendReceipt, TransportError
from ..http import ProviderAnswer, ProviderRequest
from .gateway import SMSGateway

# Clickatell's documented error codes that are about the number itself; every other code
# (credits, a sender id not registered, routing) is this gateway's problem, not the
# message's, and the next gateway may succeed.
_NUMBER_ERRORS = {
    105: "invalid destination address",
    121: "destination number blocked (opted out)",
    128: "number delisted",
}


class Clickatell(SMSGateway):
    name = "clickatell"
    credentials = ("CLICKATELL_API_KEY",)
    url_setting = "CLICKATELL_API_URL"

    def build_request(self, message: OutgoingMessage) -> ProviderRequest:
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
        return ProviderRequest(
            "POST",
            f"{self.base_url}/v1/message",
            headers={"Authorization": settings.CLICKATELL_API_KEY, "Accept": "application/json"},
            json={"messages": [item]},
        )

    def read_answer(self, message: OutgoingMessage, answer: ProviderAnswer) -> SendReceipt:
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        messages = body.get("messages") or [{}]
        first = messages[0] if isinstance(messages[0], dict) else {}
        if answer.status_code in (200, 202) and first.get("accepted") and first.get("apiMessageId"):
            return SendReceipt(str(first["apiMessageId"]))
        error = first.get("error") or body.get("error")
        if isinstance(error, dict) and answer.status_code < 500 and answer.status_code != 429:
            raise self._error(error)
        raise self.refusal(answer)

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
