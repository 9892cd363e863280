"""Development: the embedded default unless DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say
otherwise. Email goes to the local SMTP catcher that `python3 dev.py` starts (var/mail/)."""

from .base import *  # noqa: F403
from .env import env, int_value, is_set

DEBUG = True
INTERNAL_IPS = ["127.0.0.1"]

if not is_set("EMAIL_HOST"):
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int_value("DEV_SMTP_PORT", 1025, minimum=1)
    EMAIL_USE_TLS = False

SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-only-change-me")

MEDGUARD_ALLOW_DEMO_DATA = True
