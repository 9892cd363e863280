"""BulkSMS's JSON REST API v1: ``POST /v1/messages`` with HTTP basic auth (token id and
secret). The body is an array of message objects, each with its own ``to`` and ``body``
(up to ``max_per_request`` here); the answer is an array of the messages created, in the
same order, each with its id and ``status``. The delivery key goes as ``userSuppliedId``,
echoed on every status webhook.

``find_sent`` asks ``GET /v1/messages?filter=userSuppliedId=<key>`` whether a message was
taken under our key: how an unknown outcome is settled (``notifications.delivery.unknown``).

A refusal is an RFC 7807 problem document (``type``, ``title``, ``status``, ``detail``)
about the whole request: one that names the recipient is about a message (the caller
sends a refused group's messages one by one to learn which), the rest (credits, auth,
quota) are this gateway's trouble.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from ..base import OutgoingMessage, SendOutcome, SendReceipt, TransportError
from ..http import MultiMessageProvider, ProviderAnswer, ProviderRequest, exchange
from .gateway import SMSGateway


class BulkSMS(SMSGateway, MultiMessageProvider):
    name = "bulksms"
    credentials = ("BULKSMS_TOKEN_ID", "BULKSMS_TOKEN_SECRET")
    url_setting = "BULKSMS_API_URL"

    def _item(self, message: OutgoingMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "to": message.to,
            "body": message.text,
            "encoding": "UNICODE" if self.unicode(message) else "TEXT",
            "userSuppliedId": message.idempotency_key,
            "deliveryReports": "ALL",
            # One segment is what the renderer fits; never let a long text bill as many.
            "longMessageMaxParts": 1,
        }
        if self.sender_id():
            body["from"] = self.sender_id()
        return body

    def build_group_request(self, messages: Sequence[OutgoingMessage]) -> ProviderRequest:
        return ProviderRequest(
            "POST",
            f"{self.base_url}/v1/messages",
            headers={"Accept": "application/json"},
            json=[self._item(message) for message in messages],
            auth=(settings.BULKSMS_TOKEN_ID, settings.BULKSMS_TOKEN_SECRET),
        )

    def read_group_answer(
        self, messages: Sequence[OutgoingMessage], answer: ProviderAnswer
    ) -> list[SendOutcome]:
        body = answer.json()
        if answer.status_code in (200, 201) and isinstance(body, list) and body:
            if len(body) != len(messages):
                raise self.unreadable(len(body), len(messages))
            return [_outcome(item) for item in body]
        if answer.status_code == 400 and isinstance(body, dict):
            detail = str(body.get("detail", ""))
            title = str(body.get("title", "bad request"))[:80]
            if _names_recipient(detail):
                raise TransportError(f"bulksms: invalid phone number ({title})", permanent=True)
            raise TransportError(f"bulksms 400: {title}", permanent=False)
        detail = str(body.get("title", ""))[:80] if isinstance(body, dict) else ""
        raise self.refusal(answer, detail)

    def find_sent(self, key: str) -> str | None:
        """BulkSMS's id of the message sent with ``userSuppliedId`` ``key``, or None when
        BulkSMS has none (it never took it); raise when it cannot tell."""
        answer = exchange(
            self,
            ProviderRequest(
                "GET",
                f"{self.base_url}/v1/messages?"
                + urlencode({"filter": f"userSuppliedId={key}", "limit": "1"}),
                headers={"Accept": "application/json"},
                auth=(settings.BULKSMS_TOKEN_ID, settings.BULKSMS_TOKEN_SECRET),
            ),
        )
        body = answer.json()
        if answer.status_code != 200 or not isinstance(body, list):
            detail = str(body.get("title", ""))[:80] if isinstance(body, dict) else ""
            raise self.refusal(answer, detail)
        found = [item for item in body if isinstance(item, dict) and item.get("id")]
        return str(found[0]["id"]) if found else None


def _outcome(item: object) -> SendOutcome:
    item = item if isinstance(item, dict) else {}
    status = item.get("status") or {}
    status = status if isinstance(status, dict) else {}
    if status.get("type") == "FAILED":
        return TransportError(f"bulksms refused: {status.get('id', 'FAILED')}", permanent=True)
    if item.get("id"):
        return SendReceipt(str(item["id"]))
    return TransportError("bulksms: message without an id", permanent=False)


def _names_recipient(detail: str) -> bool:
    lowered = detail.lower()
    return "'to'" in lowered or "recipient" in lowered or "phone number" in lowered
