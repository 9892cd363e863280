"""Twilio's Messages API: ``POST /2010-04-01/Accounts/{sid}/Messages.json``, a form with
HTTP basic auth (account SID and auth token). A refusal is JSON with Twilio's numeric
``code``; the ones about the number are permanent.

Twilio takes no idempotency key for a send, so the delivery key rides in the
``StatusCallback`` URL instead: the status callback finds the delivery even when the
send's own answer was lost.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from ..base import OutgoingMessage, SendReceipt, TransportError
from ..http import ProviderAnswer, ProviderRequest
from .gateway import SMSGateway

# Twilio's error codes that say the number cannot receive this message.
_NUMBER_ERRORS = {
    21211: "invalid 'To' phone number",
    21214: "'To' phone number cannot be reached",
    21610: "recipient unsubscribed (replied STOP)",
    21614: "'To' number is not a mobile number",
}
# Twilio caps ValidityPeriod at 36000 seconds (10 hours).
_MAX_VALIDITY_SECONDS = 36_000


class Twilio(SMSGateway):
    name = "twilio"
    credentials = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
    url_setting = "TWILIO_API_URL"

    def build_request(self, message: OutgoingMessage) -> ProviderRequest:
        sid = settings.TWILIO_ACCOUNT_SID
        form = {
            "To": message.to,
            "From": self.sender_id() or settings.TWILIO_FROM,
            "Body": message.text,
            "ValidityPeriod": str(min(self.validity_minutes() * 60, _MAX_VALIDITY_SECONDS)),
        }
        if settings.SITE_BASE_URL:
            callback = reverse(
                "provider-hooks:status", args=["twilio", settings.PROVIDER_WEBHOOK_SECRET]
            )
            query = urlencode({"reference": message.idempotency_key})
            form["StatusCallback"] = f"{settings.SITE_BASE_URL.rstrip('/')}{callback}?{query}"
        return ProviderRequest(
            "POST",
            f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json",
            headers={"Accept": "application/json"},
            form=form,
            auth=(sid, settings.TWILIO_AUTH_TOKEN),
        )

    def read_answer(self, message: OutgoingMessage, answer: ProviderAnswer) -> SendReceipt:
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        if answer.status_code in (200, 201) and body.get("sid"):
            if body.get("status") == "failed":
                raise TransportError(
                    f"twilio {body.get('error_code')}: message failed", permanent=True
                )
            return SendReceipt(str(body["sid"]))
        code = body.get("code")
        if answer.status_code == 400 and isinstance(code, int):
            if code in _NUMBER_ERRORS:
                raise TransportError(f"twilio {code}: {_NUMBER_ERRORS[code]}", permanent=True)
            raise TransportError(f"twilio {code}: request refused", permanent=False)
        raise self.refusal(answer, f"code {code}" if code else "")
