"""The providers' webhooks: thin views that authenticate, parse and call a service.

A report we cannot read is a 400 naming what is missing; a status we do not know is stored
and answered 200, so the provider does not retry it forever; nothing here answers 500 for
anything a provider can send.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import invitations, replies, service, signatures, statuses

SMS_PROVIDERS = ("clickatell", "bulksms", "africastalking", "twilio")


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except ValueError:
        raise statuses.UnreadableReport("the body is not JSON") from None


def _form(request: HttpRequest) -> dict[str, str]:
    return {key: request.POST.get(key, "") for key in request.POST}


def _authenticated(request: HttpRequest, provider: str, secret: str) -> HttpResponse | None:
    """None when the request is the provider's; otherwise the answer to give."""
    if provider not in SMS_PROVIDERS or not signatures.secret_matches(secret):
        return HttpResponse(status=404)
    if provider == "twilio":
        url = f"{settings.SITE_BASE_URL.rstrip('/')}{request.get_full_path()}"
        given = request.headers.get("X-Twilio-Signature", "")
        if not signatures.twilio_signature_matches(url, _form(request), given):
            return JsonResponse({"detail": "X-Twilio-Signature does not match."}, status=403)
    return None


def _reports(request: HttpRequest, provider: str) -> list[statuses.StatusReport]:
    if provider == "clickatell":
        return statuses.clickatell_reports(_json(request))
    if provider == "bulksms":
        return statuses.bulksms_reports(_json(request))
    if provider == "africastalking":
        return statuses.africastalking_reports(_form(request))
    return statuses.twilio_reports(_form(request), request.GET.get("reference", ""))


@csrf_exempt
@require_POST
def status_hook(request: HttpRequest, provider: str, secret: str) -> HttpResponse:
    if refused := _authenticated(request, provider, secret):
        return refused
    try:
        reports = _reports(request, provider)
    except statuses.UnreadableReport as error:
        return JsonResponse({"detail": f"Not a {provider} status report: {error}."}, status=400)
    recorded = service.record_reports(reports)
    # Reports about a caregiver invitation's text match no delivery: they settle the
    # invitation's own outbox row.
    invitations.record_invitation_reports(reports)
    return JsonResponse({"received": len(reports), "new": recorded})


@csrf_exempt
@require_POST
def inbound_hook(request: HttpRequest, provider: str, secret: str) -> HttpResponse:
    if refused := _authenticated(request, provider, secret):
        return refused
    try:
        inbound = replies.read_inbound(provider, request.body, _form(request))
    except replies.UnreadableReply as error:
        return JsonResponse({"detail": f"Not a {provider} inbound message: {error}."}, status=400)
    handled = replies.handle_reply(inbound)
    return JsonResponse({"action": handled})
