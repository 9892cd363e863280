"""Expo's push API: ``POST /--/api/v2/push/send`` with up to 100 messages a request, one
push ticket per message in order; ``POST /--/api/v2/push/getReceipts`` later says what
Apple and Google made of each ticket.

A ticket or receipt with ``details.error == "DeviceNotRegistered"`` means the app was
uninstalled or the token expired: the device is deactivated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from ..base import PushTarget, TransportError
from ..http import HttpService, ProviderAnswer, ProviderRequest, exchange

CHUNK = 100  # Expo's documented maximum of messages per send request
RECEIPT_CHUNK = 1000  # and of ticket ids per getReceipts request
DEVICE_GONE = "DeviceNotRegistered"


@dataclass(frozen=True)
class Ticket:
    """What Expo said about one message: a ticket id, or an error."""

    ticket_id: str = ""
    error: str = ""  # Expo's details.error ("DeviceNotRegistered", "MessageTooBig"...)

    @property
    def device_gone(self) -> bool:
        return self.error == DEVICE_GONE


class Expo(HttpService):
    name = "expo"
    http2 = True  # exp.host speaks HTTP/2: the chunks of a batch share one connection

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate"}
        if settings.EXPO_ACCESS_TOKEN:
            headers["Authorization"] = f"Bearer {settings.EXPO_ACCESS_TOKEN}"
        return headers

    def send_chunk(self, messages: Sequence[dict[str, Any]]) -> list[Ticket]:
        """Send up to ``CHUNK`` messages; one ticket each, or raise for the whole chunk."""
        request = ProviderRequest(
            "POST",
            f"{settings.EXPO_API_URL.rstrip('/')}/--/api/v2/push/send",
            headers=self._headers(),
            json=list(messages),
        )
        answer = exchange(self, request)
        data = _data(answer)
        if answer.status_code != 200 or not isinstance(data, list) or len(data) != len(messages):
            raise self._chunk_refusal(answer)
        return [_ticket(item) for item in data]

    def fetch_receipts(self, ticket_ids: Sequence[str]) -> dict[str, Ticket]:
        """Receipts for up to ``RECEIPT_CHUNK`` tickets; a ticket Expo does not list yet
        is left out (asked again next time)."""
        request = ProviderRequest(
            "POST",
            f"{settings.EXPO_API_URL.rstrip('/')}/--/api/v2/push/getReceipts",
            headers=self._headers(),
            json={"ids": list(ticket_ids)},
        )
        answer = exchange(self, request)
        data = _data(answer)
        if answer.status_code != 200 or not isinstance(data, dict):
            raise self._chunk_refusal(answer)
        return {
            ticket_id: Ticket(ticket_id, _ticket(item).error)
            for ticket_id, item in data.items()
            if isinstance(item, dict)
        }

    def _chunk_refusal(self, answer: ProviderAnswer) -> TransportError:
        body = answer.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        code = ""
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = str(errors[0].get("code", ""))[:60]
        if answer.status_code == 200:
            return TransportError("expo answered without a ticket per message", permanent=False)
        if answer.status_code == 400 and code not in ("", "PUSH_TOO_MANY_EXPERIENCE_IDS"):
            return TransportError(f"expo refused the request: {code}", permanent=True)
        return self.refusal(answer, code)


def expo_message(target: PushTarget, title: str, body: str, delivery_id: int) -> dict[str, Any]:
    return {
        "to": target.token,
        "title": title,
        "body": body,
        "sound": "default",
        "priority": "high",
        # The app opens the notification centre on a tap; ids only, never health details.
        "data": {"deliveryId": delivery_id},
    }


def _data(answer: ProviderAnswer) -> Any:
    body = answer.json()
    return body.get("data") if isinstance(body, dict) else None


def _ticket(item: Any) -> Ticket:
    if not isinstance(item, dict):
        return Ticket(error="unreadable ticket")
    if item.get("status") == "ok":
        return Ticket(str(item.get("id", "")))
    raw = item.get("details")
    details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return Ticket(error=str(details.get("error") or item.get("message") or "error")[:100])
