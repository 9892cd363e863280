"""Development: the embedded default unless DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say
otherwise. Email goes to the local SMTP catcher that `python3 dev.py` starts (var/mail/).

dev.py gives the processes it starts its ports (DEV_SMTP_PORT, SITE_BASE_URL built from
MEDGUARD_PORT); a command started by hand while it runs learns them from var/.
"""

from medguard_backend.devtools.instance import running_dev_instance

from .base import *  # noqa: F403
from .env import VAR_DIR, env, int_value, is_set, url_value

DEBUG = True
INTERNAL_IPS = ["127.0.0.1"]

_running = running_dev_instance(VAR_DIR / "dev-instance.json")

if not is_set("EMAIL_HOST"):
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int_value(
        "DEV_SMTP_PORT", (_running.smtp_port if _running else None) or 1025, minimum=1
    )
    EMAIL_USE_TLS = False

_base_url_set = is_set("SITE_BASE_URL") or is_set("WAGTAILADMIN_BASE_URL")
if not _base_url_set and _running and _running.site_base_url:
    SITE_BASE_URL = url_value(
        "SITE_BASE_URL", _running.site_base_url, schemes={"http", "https"}
    ).rstrip("/")
    WAGTAILADMIN_BASE_URL = SITE_BASE_URL

SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-only-change-me")

MEDGUARD_ALLOW_DEMO_DATA = True
