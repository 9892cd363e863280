"""Africa's Talking's SMS API: ``POST /version1/messaging``, a form with the ``apiKey``
header. The answer lists one ``Recipients`` entry per number with a ``statusCode``
(100-102 taken, 4xx refused, 5xx their gateway's trouble) and the ``messageId``.

Africa's Talking takes no client reference and has no per-message status API: a send
whose answer was lost is settled only by its delivery report (see ``receipts``).
"""

from __future__ import annotations

from django.conf import settings

from ..base import OutgoingMessage, SendReceipt, TransportError
from ..http import ProviderAnswer, ProviderRequest
from .gateway import SMSGateway

_TAKEN = {100, 101, 102}  # Processed, Sent, Queued
# About the number itself: another gateway would be refused too.
_NUMBER_REFUSALS = {403: "InvalidPhoneNumber", 404: "UnsupportedNumberType", 406: "UserInBlacklist"}


class AfricasTalking(SMSGateway):
    name = "africastalking"
    credentials = ("AFRICASTALKING_USERNAME", "AFRICASTALKING_API_KEY")
    url_setting = "AFRICASTALKING_API_URL"

    def build_request(self, message: OutgoingMessage) -> ProviderRequest:
        form = {
            "username": settings.AFRICASTALKING_USERNAME,
            "to": message.to,
            "message": message.text,
        }
        if self.sender_id():
            form["from"] = self.sender_id()
        return ProviderRequest(
            "POST",
            f"{self.base_url}/version1/messaging",
            headers={"apiKey": settings.AFRICASTALKING_API_KEY, "Accept": "application/json"},
            form=form,
        )

    def read_answer(self, message: OutgoingMessage, answer: ProviderAnswer) -> SendReceipt:
        body = answer.json()
        data = body.get("SMSMessageData") if isinstance(body, dict) else None
        recipients = data.get("Recipients") if isinstance(data, dict) else None
        if answer.status_code in (200, 201) and recipients and isinstance(recipients[0], dict):
            first = recipients[0]
            code = _as_int(first.get("statusCode"))
            status = str(first.get("status", ""))[:40]
            if code in _TAKEN and first.get("messageId"):
                return SendReceipt(str(first["messageId"]))
            if code in _NUMBER_REFUSALS:
                raise TransportError(f"africastalking {code}: {status}", permanent=True)
            raise TransportError(f"africastalking {code}: {status}", permanent=False)
        raise self.refusal(answer)


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
