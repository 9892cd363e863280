"""Every variable in the README's settings table is read through a typed helper: a bad
value stops the settings from loading with an error naming the variable, before anything
else runs. (How it is printed, in one line, is in test_settings.py.)"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
BASE_SETTINGS = ROOT / "medguard_backend" / "settings" / "base.py"
# The settings modules base.py imports and that read variables: read afresh for each probe.
READ_AFRESH = ("medguard_backend.settings.operations", "medguard_backend.settings.providers")

# A value each variable must refuse.
BAD_VALUES = {
    "DATABASE_URL": "mysql://db/medguard",
    "CONN_MAX_AGE": "a minute",
    "DATABASE_PREPARED_STATEMENTS": "maybe",
    "REDIS_URL": "localhost:6379",
    "CELERY_BROKER_URL": "kafka://broker",
    "CELERY_RESULT_BACKEND": "mongodb://results",
    "EMAIL_PORT": "0",
    "EMAIL_USE_TLS": "sometimes",
    "DEFAULT_FROM_EMAIL": "MedGuard <noreply>",
    "SITE_BASE_URL": "ftp://medguard.example",
    "WAGTAILADMIN_BASE_URL": "medguard.example",
    "TIME_ZONE": "Africa/Atlantis",
    "LOG_LEVEL": "LOUD",
    "CELERY_TASK_SOFT_TIME_LIMIT": "0",
    "CELERY_TASK_TIME_LIMIT": "five minutes",
    "NOTIFICATION_BATCH_SIZE": "0",
    "NOTIFICATION_WRITE_BATCH_SIZE": "-5",
    "BATCH_WRITER_THREADS": "two",
    "NOTIFICATION_MAX_ATTEMPTS": "1.5",
    "NOTIFICATION_RETRY_BASE_SECONDS": "-1",
    "NOTIFICATION_RETRY_MAX_SECONDS": "an hour",
    "NOTIFICATION_STUCK_AFTER_SECONDS": "0",
    "NOTIFICATION_REENQUEUE_AFTER_SECONDS": "x",
    "NOTIFICATION_MAX_RECLAIMS": "0",
    "NOTIFICATION_EMAIL_TRANSPORT": "smtp",
    "NOTIFICATION_SMS_TRANSPORT": "notifications.channels.sms.",
    "NOTIFICATION_PUSH_TRANSPORT": "push transport",
    "MEDICATION_GRACE_MINUTES": "0",
    "MEDICATION_SNOOZE_DEFAULT_MINUTES": "ten",
    "MEDICATION_SNOOZE_MAX_MINUTES": "0",
    "NOTIFICATION_RETENTION_DAYS": "0",
    "NOTIFICATION_ACKNOWLEDGED_RETENTION_DAYS": "forever",
    "API_TRUSTED_PROXY_COUNT": "-1",
    "ACCOUNT_ALLOW_SIGNUP": "maybe",
    "ACCOUNT_LOGIN_FAILED_RATE": "lots",
    "METRICS_ALLOWED_NETWORKS": "the clinic",
    "METRICS_WORKER_PORT": "metrics",
    "WORKER_HEARTBEAT_SECONDS": "0",
    "WORKER_HEARTBEAT_MAX_AGE_SECONDS": "a minute",
    "BEAT_HEARTBEAT_MAX_AGE_SECONDS": "0",
    "LOG_FORMAT": "xml",
    "REMINDER_PAGES_AS_TASKS": "perhaps",
    "API_TOKEN_TTL_DAYS": "0",
    "SESSION_COOKIE_AGE": "a day",
    "AUDIT_RETENTION_DAYS": "7",
    "ERASED_CONSENT_RETENTION_DAYS": "forever",
    "ERASURE_RECORD_RETENTION_DAYS": "-1",
    "DOSE_RETENTION_DAYS": "1",
    "CAREGIVER_INVITATION_RETENTION_DAYS": "3",
    "SMS_BACKENDS": "clickatell,carrier-pigeon",
    "SMS_VALIDITY_MINUTES": "0",
    "SMS_CIRCUIT_FAILURES": "0",
    "SMS_CIRCUIT_OPEN_SECONDS": "a minute",
    "SMS_DAILY_LIMIT_PER_USER": "-1",
    "SMS_DAILY_LIMIT_TOTAL": "many",
    "EXPO_API_URL": "exp.host",
    "WEBPUSH_TTL_SECONDS": "-5",
    "FCM_CREDENTIALS_FILE": "/nonexistent/fcm-service-account.json",
    "FCM_API_URL": "fcm.googleapis.com",
    "FCM_TTL_SECONDS": "a day",
    "PROVIDER_CONNECT_TIMEOUT_SECONDS": "0",
    "PROVIDER_READ_TIMEOUT_SECONDS": "slow",
    "PROVIDER_MAX_IN_FLIGHT": "0",
    "FIELD_ENCRYPTION_KEYS": "not-a-fernet-key",
    "BLIND_INDEX_KEYS": "too-short",
}
# Any text is a valid value; SECRET_KEY is checked by the production settings
# (test_settings.py), DJANGO_SETTINGS_MODULE by manage.py and celery (test_settings.py).
FREE_TEXT = {
    "ALLOWED_HOSTS",
    "EMAIL_HOST",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "METRICS_TOKEN",
    "SECRET_KEY_FALLBACKS",
    "PROMETHEUS_MULTIPROC_DIR",
    "SMS_SENDER_ID",
    "EXPO_ACCESS_TOKEN",
    "PROVIDER_WEBHOOK_SECRET",
    "ANYMAIL_WEBHOOK_SECRET",
}
# MEDGUARD_PORT and DEV_SMTP_PORT are read by dev.py (test_dev_entry_point.py refuses bad
# ports); MEDGUARD_FAULT_POINT by the fault hook, in tests only (test_chaos.py).
CHECKED_ELSEWHERE = {
    "SECRET_KEY",
    "DJANGO_SETTINGS_MODULE",
    "MEDGUARD_PORT",
    "DEV_SMTP_PORT",
    "MEDGUARD_FAULT_POINT",
}


def readme_variables() -> set[str]:
    """The variable names in the first column of the README's settings table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Environment Variables", 1)[1].split("\n### ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    return names


def load_base_settings() -> None:
    """Run the shared settings module afresh, as start-up does (the loaded one stays)."""
    spec = importlib.util.spec_from_file_location("medguard_backend.settings.probe", BASE_SETTINGS)
    assert spec is not None
    assert spec.loader is not None
    # base.py imports settings modules of its own: read those afresh too, then put the
    # loaded ones back.
    loaded = {name: sys.modules.pop(name) for name in READ_AFRESH if name in sys.modules}
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        sys.modules.update(loaded)


def test_every_variable_in_the_readme_has_a_bad_value_here_or_is_free_text():
    listed = readme_variables()

    assert len(listed) > 30
    assert listed == set(BAD_VALUES) | FREE_TEXT | CHECKED_ELSEWHERE


def test_the_settings_load_with_the_defaults(monkeypatch):
    for variable in BAD_VALUES:
        monkeypatch.delenv(variable, raising=False)

    load_base_settings()


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_a_bad_value_stops_the_settings_naming_the_variable(monkeypatch, variable):
    for other in BAD_VALUES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(variable, BAD_VALUES[variable])

    with pytest.raises(ImproperlyConfigured) as refusal:
        load_base_settings()

    message = str(refusal.value)
    assert message.startswith(variable), message
    assert "\n" not in message
