"""The SMS, push and email providers' settings (README "Providers").

Every ``*_API_URL`` defaults to the provider's production host; tests and the channel
benchmark point them at loopback stand-ins. Credentials are read here and checked by the
system checks ``notifications.E001``-``E004`` only for the providers that are chosen.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .env import env, int_value, service_account_file_value, url_value

_HTTP = {"http", "https"}

# --- HTTP to providers ---
PROVIDER_CONNECT_TIMEOUT_SECONDS = int_value("PROVIDER_CONNECT_TIMEOUT_SECONDS", 5, minimum=1)
# A read timeout means "outcome unknown" (the request was written): long enough that a slow
# but working provider rarely hits it, short enough to finish inside the task time limit.
PROVIDER_READ_TIMEOUT_SECONDS = int_value("PROVIDER_READ_TIMEOUT_SECONDS", 15, minimum=1)
# Requests in flight per worker process (threads and pooled connections): at 100 ms a
# request, 64 allow ~600 SMS a second (`dev.py bench channels`).
PROVIDER_MAX_IN_FLIGHT = int_value("PROVIDER_MAX_IN_FLIGHT", 64, minimum=1)
# The secret path segment of the SMS webhooks (receipts and replies) for the gateways that
# sign nothing (Clickatell, BulkSMS, Africa's Talking). Empty: those webhooks answer 404.
PROVIDER_WEBHOOK_SECRET = env.str("PROVIDER_WEBHOOK_SECRET", default="")

# --- SMS ---
SMS_BACKENDS = [name.strip() for name in env.list("SMS_BACKENDS", default=[]) if name.strip()]
_known = {"clickatell", "bulksms", "africastalking", "twilio"}
if unknown := [name for name in SMS_BACKENDS if name not in _known]:
    raise ImproperlyConfigured(
        f"SMS_BACKENDS names {', '.join(unknown)}; choose from {', '.join(sorted(_known))}"
    )
# Alphanumeric sender id or short code the gateways send from ("" = the account default).
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="")
# A reminder not delivered within this time expires at the network instead of arriving late.
SMS_VALIDITY_MINUTES = int_value("SMS_VALIDITY_MINUTES", 120, minimum=1)
SMS_CIRCUIT_FAILURES = int_value("SMS_CIRCUIT_FAILURES", 5, minimum=1)
SMS_CIRCUIT_OPEN_SECONDS = int_value("SMS_CIRCUIT_OPEN_SECONDS", 60, minimum=1)

# Cost and abuse limits per day (Africa/Johannesburg), 0 = none: over them an SMS waits
# for the next day rather than being sent or dropped.
SMS_DAILY_LIMIT_PER_USER = int_value("SMS_DAILY_LIMIT_PER_USER", 10, minimum=0)
SMS_DAILY_LIMIT_TOTAL = int_value("SMS_DAILY_LIMIT_TOTAL", 0, minimum=0)

CLICKATELL_API_KEY = env.str("CLICKATELL_API_KEY", default="")
CLICKATELL_API_URL = url_value(
    "CLICKATELL_API_URL", default="https://platform.clickatell.com", schemes=_HTTP
)
BULKSMS_TOKEN_ID = env.str("BULKSMS_TOKEN_ID", default="")
BULKSMS_TOKEN_SECRET = env.str("BULKSMS_TOKEN_SECRET", default="")
BULKSMS_API_URL = url_value("BULKSMS_API_URL", default="https://api.bulksms.com", schemes=_HTTP)
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="")
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
AFRICASTALKING_API_URL = url_value(
    "AFRICASTALKING_API_URL", default="https://api.africastalking.com", schemes=_HTTP
)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_API_URL = url_value("TWILIO_API_URL", default="https://api.twilio.com", schemes=_HTTP)

# --- Push ---
EXPO_API_URL = url_value("EXPO_API_URL", default="https://exp.host", schemes=_HTTP)
EXPO_ACCESS_TOKEN = env.str("EXPO_ACCESS_TOKEN", default="")
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_VAPID_SUBJECT = env.str("WEBPUSH_VAPID_SUBJECT", default="")
# Seconds a push service keeps a message for an offline browser.
WEBPUSH_TTL_SECONDS = int_value("WEBPUSH_TTL_SECONDS", 3600, minimum=0)
# Firebase Cloud Messaging (HTTP v1) for Android tokens that are not Expo's: a Google
# service-account JSON key file; empty leaves FCM off. Read (and checked) at start-up.
FCM_CREDENTIALS_FILE = service_account_file_value("FCM_CREDENTIALS_FILE")
FCM_API_URL = url_value("FCM_API_URL", default="https://fcm.googleapis.com", schemes=_HTTP)
# Seconds FCM keeps a message for a phone that is off: a dose reminder hours late is worse
# than none (the in-app copy stays).
FCM_TTL_SECONDS = int_value("FCM_TTL_SECONDS", 3600, minimum=0, maximum=28 * 24 * 3600)

# --- Email service providers (django-anymail) ---
# EMAIL_BACKEND picks one, e.g. anymail.backends.postmark.EmailBackend; SMTP stays the
# default. Only the chosen ESP's settings need to be set.
ANYMAIL = {
    key: value
    for key, value in {
        "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        "MAILGUN_API_URL": env.str("MAILGUN_API_URL", default=""),
        "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
        "SENDGRID_API_URL": env.str("SENDGRID_API_URL", default=""),
        "POSTMARK_SERVER_TOKEN": env.str("POSTMARK_SERVER_TOKEN", default=""),
        "POSTMARK_API_URL": env.str("POSTMARK_API_URL", default=""),
        # Amazon SES: the configuration set that publishes its events; credentials come
        # the way boto3 finds them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an
        # instance role).
        "AMAZON_SES_CONFIGURATION_SET_NAME": env.str(
            "AMAZON_SES_CONFIGURATION_SET_NAME", default=""
        ),
        # Basic auth ("user:password") the ESPs' tracking webhooks must present.
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
    }.items()
    if value
}
# SES's region (af-south-1 is Cape Town); unset: boto3's own AWS_REGION/AWS_DEFAULT_REGION.
if _ses_region := env.str("AMAZON_SES_REGION", default=""):
    ANYMAIL["AMAZON_SES_CLIENT_PARAMS"] = {"region_name": _ses_region}
