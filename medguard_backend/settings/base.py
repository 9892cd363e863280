"""Settings shared by every mode (dev, test, prod).

Values come from the environment (see ``.env.example``); ``env.py`` turns a malformed
value into a one-line error naming the variable. With nothing set, the project runs on
the embedded default: SQLite, a filesystem Celery broker and a local-memory cache.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

from .env import (
    BASE_DIR,
    VAR_DIR,
    bool_value,
    choice_value,
    database_config,
    dotted_path_value,
    email_value,
    env,
    fernet_keys_value,
    filesystem_broker_options,
    int_value,
    is_set,
    rate_value,
    result_backend_value,
    secret_keys_value,
    url_value,
)
from .env import time_zone as time_zone_setting
from .operations import *  # noqa: F403 - metrics, heartbeats, log format
from .operations import LOG_FORMAT

SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-dev-only-change-me")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Encryption at rest of personal columns (privacy/encryption/, PRIVACY.md "Keys and
# rotation"): Fernet keys, the first encrypts and all decrypt; and the HMAC keys of the blind
# indexes that find an encrypted value (an inbound SMS's number), the first writes. Unset,
# each is derived from SECRET_KEY so that the embedded default runs with no set-up; the
# production settings require both.
FIELD_ENCRYPTION_KEYS = fernet_keys_value("FIELD_ENCRYPTION_KEYS", SECRET_KEY)
BLIND_INDEX_KEYS = secret_keys_value("BLIND_INDEX_KEYS", SECRET_KEY)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonenumber_field",
    "rest_framework",
    "rest_framework.authtoken",  # its table only; tokens are knox's (hashed), see privacy 0002
    "knox",
    "drf_spectacular",
    # Swagger UI's files, served from our static files: /api/docs/ works on a closed network
    # and cannot change under us (no CDN, no "@latest").
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "anymail",
    # Before allauth: its pages and emails are found in accounts/templates first.
    "accounts",
    "allauth",
    "allauth.account",
    "notifications",
    "medications",
    "privacy",
    "clinic",
    "patients",
    "demo",
    "medguard_backend.monitoring",
]

MIDDLEWARE = [
    # First, so that the request id is set for everything after and the time measured
    # is the whole answer.
    "medguard_backend.request_context.RequestIdMiddleware",
    "medguard_backend.metrics.http.RequestLatencyMiddleware",
    # Before anything that queries: a dropped database connection anywhere in the request
    # (a middleware's query included) is 503 with Retry-After, and a read is run once more
    # through everything below; never 500 (medguard_backend/database_errors.py).
    "medguard_backend.database_errors.TransientDatabaseErrorMiddleware",
    # Then, before anything queries with it, a NUL in the URL is refused; and errors under
    # /api/ that Django renders itself (a 404 from the resolver) become JSON.
    "notifications.api.middleware.ApiRequestGuard",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in user reads the pages in their own language.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "privacy.audit_middleware.AuditMiddleware",
    "csp.middleware.CSPMiddleware",
]
# Content-Security-Policy on every page: scripts, styles and images from this site only, no
# inline script or style (no 'unsafe-inline'), no framing. The Swagger UI at /api/docs/ is
# left out: drf-spectacular serves it with an inline script and CDN assets, and it shows the
# API's shape, never anyone's data.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

TEST_RUNNER = "medguard_backend.test_runner.PytestTestRunner"
ROOT_URLCONF = "medguard_backend.urls"
WSGI_APPLICATION = "medguard_backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "patients.badge.unread_badge",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
_PREPARED_STATEMENTS = bool_value("DATABASE_PREPARED_STATEMENTS", True)
# Read on SQLite too (where it is not used), so a bad value is refused wherever it is set.
_CONN_MAX_AGE = int_value("CONN_MAX_AGE", 60)
DATABASES = {
    "default": database_config("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # Web, worker and beat write to one SQLite file at once: WAL lets readers go on
        # while one writer works, IMMEDIATE takes the write lock at BEGIN (so a transaction
        # waits for it instead of failing half-way with "database is locked"), and the
        # timeout is how long it waits.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    # Reuse connections for a minute, health-checked before each request uses them (without
    # a round trip: medguard_backend/postgres). Statements run with server-side binding,
    # and one run five times on a connection is kept prepared there, so the API's hot
    # queries are not planned again on every request. A pooler in transaction mode
    # (PgBouncer before 1.21) cannot keep prepared statements: DATABASE_PREPARED_STATEMENTS
    # =false turns them off.
    DATABASES["default"]["ENGINE"] = "medguard_backend.postgres"
    DATABASES["default"]["CONN_MAX_AGE"] = _CONN_MAX_AGE
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if _PREPARED_STATEMENTS else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# `manage.py load_demo_data` creates users with a published password: dev and test only.
MEDGUARD_ALLOW_DEMO_DATA = bool_value("MEDGUARD_ALLOW_DEMO_DATA", False)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    # The breached-password check, offline: Django's bundled list of the 20,000 passwords
    # found most often in public breaches. No password ever leaves the server.
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in (django-allauth) -------------------------------------------------------------
# Every user signs in at /accounts/login/ with their username or email address; the links in
# emails lead there when the session has ended.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "accounts.forms.SignInForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Clinic staff create the accounts (admin, import, demo). Self sign-up stays closed unless
# ACCOUNT_ALLOW_SIGNUP is set; email verification never blocks signing in ("optional"): an
# address is verified by its link, or by a password reset through it.
ACCOUNT_ALLOW_SIGNUP = bool_value("ACCOUNT_ALLOW_SIGNUP", False)
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "MedGuard SA: "
ACCOUNT_PASSWORD_RESET_TOKEN_TIMEOUT = 60 * 60 * 24
ACCOUNT_SESSION_REMEMBER = None  # the "Remember me" box decides
# Counted in the cache (Redis when REDIS_URL is set, shared by every web process). Five
# wrong passwords for one account within 15 minutes lock that account's sign-in for the
# rest of the window, whatever the address they come from; one address gets 20 a minute.
ACCOUNT_RATE_LIMITS = {
    "login_failed": rate_value("ACCOUNT_LOGIN_FAILED_RATE", "20/m/ip,5/15m/key"),
    "login": "30/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
    # Phone verification codes (accounts/phones.py): an SMS costs money and can be abused
    # to message a stranger's phone.
    "send_phone_code": "3/15m/user,10/h/ip",
}
# Phone verification by SMS code (accounts/phones.py).
PHONE_VERIFICATION_CODE_MINUTES = 10
PHONE_VERIFICATION_MAX_ATTEMPTS = 5

# Web sign-ins end after this many seconds (default 12 hours), or when the browser closes.
SESSION_COOKIE_AGE = int_value("SESSION_COOKIE_AGE", 12 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# API tokens (django-rest-knox): stored as SHA-512 digests, one per signed-in device, each
# refused after API_TOKEN_TTL_DAYS (default 30); `Authorization: Token <token>` as before.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": datetime.timedelta(days=int_value("API_TOKEN_TTL_DAYS", 30, minimum=1)),
    "AUTO_REFRESH": False,
}

# --- Languages and time -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("af", "Afrikaans")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# South African date and time formats (24-hour clock, "28 November 2026") for en and af.
FORMAT_MODULE_PATH = ["medguard_backend.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = time_zone_setting("TIME_ZONE", "Africa/Johannesburg")

PHONENUMBER_DEFAULT_REGION = "ZA"
PHONENUMBER_DB_FORMAT = "E164"

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Site -----------------------------------------------------------------------------------
# Base URL for links inside messages. The seed called it WAGTAILADMIN_BASE_URL; the clearer
# SITE_BASE_URL wins when both are set.
SITE_BASE_URL = url_value(
    "SITE_BASE_URL" if is_set("SITE_BASE_URL") else "WAGTAILADMIN_BASE_URL",
    default="http://localhost:8000",
    schemes={"http", "https"},
).rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_BASE_URL

# --- Cache ----------------------------------------------------------------------------------
# Redis (shared by every process) when REDIS_URL is set, exactly as the seed configures it;
# a per-process local-memory cache on the embedded default, which needs no server.
if is_set("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url_value("REDIS_URL", "", {"redis", "rediss", "unix"}),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 5,
                "SOCKET_TIMEOUT": 5,
                "CONNECTION_POOL_KWARGS": {"max_connections": 100},
            },
        }
    }
    # A Redis outage must not take pages down: cache reads miss, writes are dropped, and
    # /health/ reports the cache as failing.
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "medguard",
        }
    }

# --- Celery -----------------------------------------------------------------------------------
# Broker: CELERY_BROKER_URL (Redis in production); without it, kombu's filesystem transport,
# which needs no server, supports the broadcast that `celery inspect` and `purge` use, and
# keeps queued messages across restarts in var/broker/.
if is_set("CELERY_BROKER_URL"):
    CELERY_BROKER_URL = url_value(
        "CELERY_BROKER_URL", "", {"redis", "rediss", "amqp", "pyamqp", "filesystem"}
    )
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
# kombu picks a transport by the URL's scheme; ours replace two of its own for every
# connection of the process (the app's, beat's, the health check's, a test's private
# broker), see medguard_backend/broker.py:
# - redis:// and rediss://: kombu's Redis transport with a patch that keeps a worker alive
#   across Redis restarts (an AttributeError killed it about once in ninety);
# - filesystem://: kombu's filesystem transport writing each message atomically (a consumer
#   could read a half-written file and the worker died).
TRANSPORT_ALIASES.update(
    redis="medguard_backend.broker:Transport",
    rediss="medguard_backend.broker:Transport",
    filesystem="medguard_backend.broker:FilesystemTransport",
)
CELERY_RESULT_BACKEND = result_backend_value("CELERY_RESULT_BACKEND", "django-db")

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ROUTES = {
    "notifications.tasks.*": {"queue": "notifications"},
    "medications.tasks.*": {"queue": "medications"},
}
# A worker started without -Q (as the seed starts it) consumes every queue listed here.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: tuple[Queue, ...] = (
    Queue("celery"),
    Queue("notifications"),
    Queue("medications"),
)

# Beat's crontabs are South African wall-clock times (08:00 reminders are 08:00 SAST).
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True

# Our tasks are idempotent (deliveries are claimed with a conditional update), so a task is
# acknowledged only after it ran: a worker that dies mid-task leaves it to be redelivered.
CELERY_TASK_ACKS_LATE = True
# A child killed by the OS (OOM) is not redelivered: a task that kills its worker would
# otherwise loop forever. Work it left unfinished is in the database and the outbox sweeper
# picks it up again.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
# Take one message at a time: long batches do not starve a queue behind a busy process,
# and a killed worker holds back at most one unacknowledged message per process.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The hard limit kills a stuck task (a hung SMTP server) so the process is freed; the soft
# limit first raises inside the task so it can record why it stopped.
CELERY_TASK_SOFT_TIME_LIMIT = int_value("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = int_value("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
# Redis redelivers an unacknowledged message after the visibility timeout. It must be longer
# than the longest task (the hard limit above) or a running task is handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1,
    "socket_timeout": 10,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The folder is polled; a second keeps hand-offs prompt at negligible cost.
    CELERY_BROKER_TRANSPORT_OPTIONS |= filesystem_broker_options(VAR_DIR / "broker", 1)
if CELERY_BROKER_URL.startswith(("amqp://", "pyamqp://")):
    # RabbitMQ (deploy/README.md says when to choose it). Its reliability rests on other
    # mechanisms than Redis's, so the Redis-only choices above are replaced:
    # - No visibility timeout: an unacknowledged message goes back to its queue when the
    #   worker's channel closes (a crash, a lost connection), never while the task runs.
    #   RabbitMQ's own consumer_timeout (30 min by default) must stay above the task hard
    #   limit (5 min), or a long task's channel would be closed under it.
    # - Quorum queues: replicated (Raft) and written to disk before they are confirmed, so
    #   a broker node lost does not lose queued work. They cannot take a per-channel
    #   prefetch, which Celery detects and handles; our tasks use no ETA/countdown.
    # - Publisher confirms: apply_async returns once the broker has the message, so the
    #   on-commit publish that marks deliveries enqueued does not mark a message lost in
    #   flight (the sweeper would re-publish it later, but only after the re-enqueue delay).
    # - A task running when the connection drops is cancelled: its message is redelivered
    #   anyway, and our tasks are idempotent, so finishing it too would only be duplicate
    #   work.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    CELERY_TASK_QUEUES = tuple(
        Queue(queue.name, queue_arguments={"x-queue-type": "quorum"})
        for queue in CELERY_TASK_QUEUES
    )
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Workers and beat wait for a broker that starts after them instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Publishing (from a web request, from beat) gives up within about a second when the broker
# or the result store is down: the work is already recorded in the database (the outbox)
# and the sweeper publishes it later, so an outage must not make a page or beat hang. Each
# publish retries once at once (kombu reconnects), whether the process is warm or cold.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# A Redis result store retried 20 times (~19 s) before each publish of a task whose result
# is kept (it subscribes to the result first). Fire-and-forget tasks keep no result
# (ignore_result, notifications/tasks.py); for the others, give up as quickly.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_RESULT_BACKEND_ALWAYS_RETRY = False
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXTENDED = True
CELERY_RESULT_EXPIRES = 60 * 60 * 24 * 7
CELERY_TASK_TRACK_STARTED = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = int_value("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_USE_TLS = bool_value("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = bool_value("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    # Django would only say so when the first email is sent.
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_TIMEOUT = int_value("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = email_value("DEFAULT_FROM_EMAIL", "noreply@medguard-sa.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Providers (SMS gateways, push services) --------------------------------------------------
from .providers import *  # noqa: E402, F403
from .providers import SMS_BACKENDS  # noqa: E402

# --- Notifications ----------------------------------------------------------------------------
# One transport class per channel (notifications/channels/). In-app needs none: the recipient
# row is the delivery. SMS and push write to files in var/outbox/ until a provider is set.
NOTIFICATION_TRANSPORTS = {
    "email": dotted_path_value(
        "NOTIFICATION_EMAIL_TRANSPORT", "notifications.channels.email.EmailTransport"
    ),
    "sms": dotted_path_value(
        "NOTIFICATION_SMS_TRANSPORT",
        # The gateways once SMS_BACKENDS names any; files until then.
        "notifications.channels.sms.GatewaySMSTransport"
        if SMS_BACKENDS
        else "notifications.channels.sms.FileSMSTransport",
    ),
    "push": dotted_path_value(
        "NOTIFICATION_PUSH_TRANSPORT", "notifications.channels.push.FilePushTransport"
    ),
}
NOTIFICATION_FILE_TRANSPORT_DIR = VAR_DIR / "outbox"
# Delivery ids per Celery task: big enough to amortise queries, small enough to finish well
# inside the task time limit (an SMTP send takes ~10 ms here, ~100 ms against a provider).
NOTIFICATION_BATCH_SIZE = int_value("NOTIFICATION_BATCH_SIZE", 500, minimum=1)
# Users (or schedules) per write when recording a send: one INSERT statement each for
# recipients and deliveries, so bigger batches mean fewer round trips, at a little memory.
NOTIFICATION_WRITE_BATCH_SIZE = int_value("NOTIFICATION_WRITE_BATCH_SIZE", 2000, minimum=1)
# Threads writing a slot's reminder batches at once, each on its own PostgreSQL connection,
# so that Python and the database work in parallel (medguard_backend/batch_writers.py);
# 1 writes them one after the other. SQLite always writes in the caller's thread.
BATCH_WRITER_THREADS = int_value("BATCH_WRITER_THREADS", 2, minimum=1)
# true: the slot tasks and the dispatcher publish one task per NOTIFICATION_WRITE_BATCH_SIZE
# due schedules, so every worker writes a share of the slot (medications/reminders.py);
# false: the beat task writes the whole slot itself. Off by default: on one 2-core machine
# it measured slower (bench/SCALE.md); it is for slots too big for one task (workers on
# several machines).
REMINDER_PAGES_AS_TASKS = bool_value("REMINDER_PAGES_AS_TASKS", False)
# Retries of temporary failures: exponential back-off with full jitter, then "failed".
NOTIFICATION_MAX_ATTEMPTS = int_value("NOTIFICATION_MAX_ATTEMPTS", 5, minimum=1)
NOTIFICATION_RETRY_BASE_SECONDS = int_value("NOTIFICATION_RETRY_BASE_SECONDS", 60, minimum=0)
NOTIFICATION_RETRY_MAX_SECONDS = int_value("NOTIFICATION_RETRY_MAX_SECONDS", 3600, minimum=0)
# A delivery still "sending" this long after it was claimed belongs to a worker that died:
# the sweeper hands it out again. Longer than the task hard time limit.
NOTIFICATION_STUCK_AFTER_SECONDS = int_value("NOTIFICATION_STUCK_AFTER_SECONDS", 600, minimum=1)
# A delivery taken back this many times from workers that died holding it is sent alone from
# then on; once its worker has died this many times holding it alone, it is failed for good
# (a message that kills the process must not be handed out forever).
NOTIFICATION_MAX_RECLAIMS = int_value("NOTIFICATION_MAX_RECLAIMS", 3, minimum=1)
# A pending delivery enqueued this long ago and still not claimed is enqueued again (its
# broker message was lost).
NOTIFICATION_REENQUEUE_AFTER_SECONDS = int_value(
    "NOTIFICATION_REENQUEUE_AFTER_SECONDS", 300, minimum=1
)

# --- Medications ------------------------------------------------------------------------------
# A dose not recorded this long after it was due is missed (and caregivers are told).
MEDICATION_GRACE_MINUTES = int_value("MEDICATION_GRACE_MINUTES", 60, minimum=1)
MEDICATION_SNOOZE_DEFAULT_MINUTES = int_value("MEDICATION_SNOOZE_DEFAULT_MINUTES", 10, minimum=1)
MEDICATION_SNOOZE_MAX_MINUTES = int_value("MEDICATION_SNOOZE_MAX_MINUTES", 120, minimum=1)
# Read and dismissed notifications are deleted after this many days; acknowledged
# critical ones, and the delivery audit of acknowledged ones, are kept longer.
NOTIFICATION_RETENTION_DAYS = int_value("NOTIFICATION_RETENTION_DAYS", 90, minimum=1)
# How long each other kind of record is kept (days); the weekly cleanup deletes what is older.
# PRIVACY.md says why each period is what it is. Expired API tokens and web sessions go at once.
RETENTION_DAYS = {
    # Who saw or changed what about a patient: long enough to answer a complaint or an
    # Information Regulator enquiry about access.
    "audit_entries": int_value("AUDIT_RETENTION_DAYS", 3 * 365, minimum=30),
    # Anonymous consent history of erased people: the proof that consent was asked.
    "erased_consent_records": int_value("ERASED_CONSENT_RETENTION_DAYS", 3 * 365, minimum=30),
    # That an erasure happened (no identity in it).
    "erasure_records": int_value("ERASURE_RECORD_RETENTION_DAYS", 5 * 365, minimum=30),
    # Dose history (taken, skipped, missed): what adherence and forecasts read.
    "doses": int_value("DOSE_RETENTION_DAYS", 2 * 365, minimum=30),
    # Caregiver invitations once accepted, cancelled or expired, with their texts' delivery
    # reports: the invitee's address or number. The changes they led to stay (the audit).
    "caregiver_invitations": int_value("CAREGIVER_INVITATION_RETENTION_DAYS", 90, minimum=7),
}
NOTIFICATION_ACKNOWLEDGED_RETENTION_DAYS = int_value(
    "NOTIFICATION_ACKNOWLEDGED_RETENTION_DAYS", 730, minimum=1
)

# --- REST API -------------------------------------------------------------------------------
# (owned by the API: notifications/api/, later medications/api/)


def throttle_rate(name: str, default: str) -> str:
    """A DRF throttle rate, "<requests>/<s|min|hour|day>", checked at start-up (DRF itself
    would only fail on the first request)."""
    value = env.str(name, default=default).strip()
    count, _, period = value.partition("/")
    if not (count.isdigit() and int(count) > 0 and period in {"s", "sec", "min", "hour", "day"}):
        raise ImproperlyConfigured(f"{name} must look like 600/min (s, min, hour, day): {value!r}")
    return value


REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: an anonymous request then gets 401 with `WWW-Authenticate: Token` rather
    # than the 403 DRF gives when the first authenticator (session) has no header to offer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "notifications.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the mobile app and the web app both send it, and every other parser is
    # attack surface (multipart spools files) and documentation noise.
    "DEFAULT_PARSER_CLASSES": ["notifications.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "notifications.api.throttles.AnonThrottle",
        "notifications.api.throttles.UserThrottle",
        "notifications.api.throttles.WriteRateThrottle",
    ],
    # The two per-user budgets can be changed from the environment (API_USER_RATE,
    # API_WRITE_RATE), e.g. for a load test that must measure the API, not its 429s.
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/min",
        "user": throttle_rate("API_USER_RATE", "600/min"),
        # Writes change state and may fan out (a staff broadcast): a tighter budget.
        "user_write": throttle_rate("API_WRITE_RATE", "120/min"),
        # Password guessing: a handful of logins per minute per address.
        "auth_token": "10/min",
    },
    # How many proxies in front of the app set X-Forwarded-For. 0 (the default) trusts
    # only REMOTE_ADDR, so a client cannot pick its own throttle bucket by sending the header.
    "NUM_PROXIES": int_value("API_TRUSTED_PROXY_COUNT", 0),
}
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE only guards `request.body`; DRF reads the stream
# directly, so the API's JSON parser enforces this bound itself.
API_MAX_BODY_BYTES = 16 * 1024
SPECTACULAR_SETTINGS: dict[str, object] = {
    "TITLE": "MedGuard SA Notifications API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "In-app notifications, notification preferences and push registrations of the "
        "signed-in user; their medications and doses (take, skip, snooze, restock); the "
        "patients linked to a caregiver, read-only; and staff tools. Authenticate with "
        "`Authorization: Token <key>` (from `POST /api/auth/token/`) or a session cookie plus "
        "CSRF token. Errors come in the language of `Accept-Language`, else the user's "
        "preferred language."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/",
    # Separate request and response components, so read-only fields are not offered as input.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "NotificationTypeEnum": "notifications.models.choices.NotificationType",
        "PriorityEnum": "notifications.models.choices.Priority",
        "RecipientStatusEnum": "notifications.models.choices.RecipientStatus",
        "EmailTimePreferenceEnum": "notifications.models.choices.EmailTimePreference",
        "UserTypeEnum": "accounts.models.User.UserType",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "notifications.api.schema.add_error_components",
        "notifications.api.schema.refuse_extra_request_properties",
    ],
}

# --- Logging ----------------------------------------------------------------------------------
LOG_DIR = BASE_DIR / "logs"
LOG_LEVEL = choice_value("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOGGING: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Defence in depth: code logs ids, never phone numbers or addresses; this catches a
        # number that slips into a third-party library's message.
        "redact_contact_details": {"()": "medguard_backend.logging.RedactContactDetails"},
        # Push tokens and Web Push endpoints are credentials (they arrive in request paths).
        "redact_push_credentials": {"()": "medguard_backend.logging.RedactPushCredentials"},
    },
    "formatters": {
        "standard": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "standard",
            "filters": ["redact_contact_details", "redact_push_credentials"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Request paths are logged here: redacted on the logger, before any handler.
        "django.request": {"filters": ["redact_push_credentials"]},
        "django.server": {"filters": ["redact_push_credentials"]},
        "celery": {"level": LOG_LEVEL},
        # httpx logs every request's URL at INFO: a Web Push endpoint is a credential.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
if LOG_FORMAT == "json":
    # Every handler (console, and the file in prod) writes one JSON object per line.
    LOGGING["formatters"]["standard"] = {  # type: ignore[index]
        "()": "medguard_backend.structured_logs.JsonFormatter"
    }
