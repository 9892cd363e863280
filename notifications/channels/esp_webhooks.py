"""The email service providers' tracking webhooks we use (anymail's views), under /hooks/anymail/.

Only these providers' (Postmark, Mailgun, SendGrid): anymail's own url list has every
ESP's. Amazon SES sends (boto3 is installed) but its SNS event webhook is not routed yet:
anymail's view raises on a body that is not SNS JSON, which would answer 500. Mailgun's is
routed only once its signing key is set: anymail's view refuses to start without it (a 500
on every call), and an unconfigured webhook has nothing to receive — it answers 404 like
any unknown path.
"""

from __future__ import annotations

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.urls import path

app_name = "anymail"

# Mailgun's view refuses to start without its signing key; the others check basic auth
# (WEBHOOK_SECRET) on each request.
REQUIRED = {"mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY"}
VIEWS = {
    "mailgun": MailgunTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
}

urlpatterns = [
    path(f"{esp}/tracking/", view.as_view(), name=f"{esp}_tracking_webhook")
    for esp, view in VIEWS.items()
    if esp not in REQUIRED or getattr(settings, "ANYMAIL", {}).get(REQUIRED[esp])
]
