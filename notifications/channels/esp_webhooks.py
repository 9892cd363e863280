"""The email service providers' tracking webhooks we use (anymail's views), under /hooks/anymail/.

Only these providers' (Postmark, Mailgun, SendGrid, Amazon SES): anymail's own url list has
every ESP's. Mailgun's is routed only once its signing key is set: anymail's view refuses to
start without it (a 500 on every call), and an unconfigured webhook has nothing to receive —
it answers 404 like any unknown path.

Postmark's, SendGrid's and Amazon SES's are authenticated by basic auth only
(``ANYMAIL["WEBHOOK_SECRET"]`` in the URL given to the provider; anymail 15.2 does not verify
SNS's message signature — "Future" in its code). Anymail serves them without a secret too,
with a warning; here they answer 404 without one rather than take anyone's word that a
message was delivered or bounced.

Amazon SES's events come through Amazon SNS. Its body is checked
(``notifications.receipts.ses_notices``) before anymail reads it: anymail's view raises on a
body that is not SNS JSON, which would answer 500 and make SNS retry for hours.
"""

from __future__ import annotations

from typing import Any

from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from notifications.receipts.ses_notices import UnreadableNotice, check_sns_post

app_name = "anymail"


class SecretRequired(AnymailBasicAuthMixin):
    """A basic-auth webhook that does not exist (404) until ANYMAIL_WEBHOOK_SECRET is set."""

    warn_if_no_basic_auth = False  # refused instead of served with a warning

    # Providers post without a CSRF token (anymail's own dispatch is exempt the same way).
    @method_decorator(csrf_exempt)
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.basic_auth:
            raise Http404("this email provider's webhook needs ANYMAIL_WEBHOOK_SECRET")
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response


class PostmarkWebhookView(SecretRequired, PostmarkTrackingWebhookView):
    pass


class SendGridWebhookView(SecretRequired, SendGridTrackingWebhookView):
    pass


class SESTrackingWebhookView(SecretRequired, AmazonSESTrackingWebhookView):
    """Anymail's SES tracking view, answering 400 (naming the field) for a body it could
    not read."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.META.get("HTTP_AUTHORIZATION"):
            # Without credentials anymail answers 401 first: SNS sends basic auth only
            # after a 401 challenge. With them: right ones (else 400, as anymail answers),
            # then a readable body.
            AnymailBasicAuthMixin.validate_request(self, request)
            try:
                check_sns_post(request.body)
            except UnreadableNotice as error:
                return JsonResponse({"error": str(error)}, status=400)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response


# Mailgun's view refuses to start without its signing key; the others check basic auth
# (WEBHOOK_SECRET) on each request.
REQUIRED = {"mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY"}
VIEWS = {
    "mailgun": MailgunTrackingWebhookView,
    "postmark": PostmarkWebhookView,
    "sendgrid": SendGridWebhookView,
    "amazon_ses": SESTrackingWebhookView,
}

urlpatterns = [
    path(f"{esp}/tracking/", view.as_view(), name=f"{esp}_tracking_webhook")
    for esp, view in VIEWS.items()
    if esp not in REQUIRED or getattr(settings, "ANYMAIL", {}).get(REQUIRED[esp])
]
