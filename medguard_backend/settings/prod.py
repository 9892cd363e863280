"""Production. Refuses to start without a real SECRET_KEY and ALLOWED_HOSTS, and passes
`manage.py check --deploy` with no warnings once they are set."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOG_DIR, LOG_LEVEL, LOGGING
from .env import bool_value, env, int_value, is_set

_INSECURE_DEFAULT = "django-insecure-dev-only-change-me"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY or SECRET_KEY == _INSECURE_DEFAULT or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be set to a long random value in production")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters of random text")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this site answers to")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Derived from SECRET_KEY only in development: in production the keys are kept apart from
# it (rotating SECRET_KEY must not make the data unreadable) and from the database's backups.
for _keys in ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEYS"):
    if not is_set(_keys):
        raise ImproperlyConfigured(f"{_keys} must be set in production (see PRIVACY.md)")

DEBUG = False
# TLS ends at the load balancer, which says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = bool_value("SECURE_SSL_REDIRECT", True)
# /health/ (and /health/live, /health/ready) is polled over plain HTTP by the load
# balancer and the orchestrator inside the network, /metrics by Prometheus.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = int_value("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Console for the process supervisor, plus logs/django.log rotated at 10 MB, five kept.
LOG_DIR.mkdir(exist_ok=True)
LOGGING["handlers"] = {
    **LOGGING["handlers"],  # type: ignore[dict-item]
    "file": {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": str(LOG_DIR / "django.log"),
        "maxBytes": 10 * 1024 * 1024,
        "backupCount": 5,
        "formatter": "standard",
        "filters": ["redact_contact_details", "redact_push_credentials"],
    },
}
LOGGING["root"] = {"handlers": ["console", "file"], "level": LOG_LEVEL}
