"""Each settings mode loads; bad configuration stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3J9-very-long-random-production-secret-value-0123456789-abcdefXYZ"
GOOD_FIELD_KEY = "9qAqWkY3Yl2m2cz6Y1nZ0cC6nY4sN8b9XwJ4wQ8p7ZQ="
GOOD_INDEX_KEY = "4f1c2b9e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a"
KEYS = {"FIELD_ENCRYPTION_KEYS": GOOD_FIELD_KEY, "BLIND_INDEX_KEYS": GOOD_INDEX_KEY}
PROD = {"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "medguard.example.org", **KEYS}


def run_manage(*args: str, settings: str = "dev", **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", *KEYS}}
    clean |= {"DJANGO_SETTINGS_MODULE": f"medguard_backend.settings.{settings}", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def last_error_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("mode", ["dev", "test"])
def test_settings_mode_loads_and_passes_system_checks(mode: str) -> None:
    result = run_manage("check", settings=mode)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_prod_passes_check_deploy_without_warnings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", settings="prod", **PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "secret",
    ["", "django-insecure-dev-only-change-me", "short-secret"],
    ids=["missing", "default", "too-short"],
)
def test_prod_refuses_to_start_without_a_real_secret_key(secret: str) -> None:
    result = run_manage("check", settings="prod", SECRET_KEY=secret, ALLOWED_HOSTS="x.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in last_error_line(result)


@pytest.mark.parametrize("missing", sorted(KEYS))
def test_prod_refuses_to_start_without_the_encryption_keys(missing: str) -> None:
    """Derived from SECRET_KEY in development only: production must name its own keys."""
    others = {k: v for k, v in PROD.items() if k != missing}
    result = run_manage("check", settings="prod", **others)
    assert result.returncode != 0
    assert missing in last_error_line(result)


def test_prod_refuses_to_start_without_allowed_hosts() -> None:
    result = run_manage("check", settings="prod", SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in last_error_line(result)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql-ish://nowhere"),
        ("DATABASE_URL", "postgres://"),
        ("TIME_ZONE", "Africa/Atlantis"),
        ("CELERY_BROKER_URL", "not a url"),
        ("REDIS_URL", "http://localhost:6379/1"),
        ("EMAIL_PORT", "twenty-five"),
        ("EMAIL_USE_TLS", "perhaps"),
        ("DATABASE_PREPARED_STATEMENTS", "perhaps"),
        ("WAGTAILADMIN_BASE_URL", "localhost:8000"),
        # One of each kind of value read through medguard_backend/settings/env.py:
        ("LOG_LEVEL", "LOUD"),
        ("EMAIL_PORT", "70000"),
        ("DEFAULT_FROM_EMAIL", "noreply"),
        ("NOTIFICATION_SMS_TRANSPORT", "not a class path"),
        ("CELERY_RESULT_BACKEND", "mongodb://x"),
        ("API_USER_RATE", "lots"),
        ("DJANGO_SETTINGS_MODULE", "medguard_backend.settings.staging"),
    ],
)
def test_bad_configuration_stops_with_one_line_naming_the_variable(
    variable: str, value: str
) -> None:
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: ")
    assert variable in line


def test_the_celery_command_also_stops_with_one_line_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "medguard_backend",
            "inspect",
            "ping",
        ],
        cwd=ROOT,
        env=env | {"DATABASE_URL": "mysql-ish://nowhere"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: DATABASE_URL")


@pytest.mark.parametrize(
    ("setting", "threshold"), [({}, "5"), ({"DATABASE_PREPARED_STATEMENTS": "false"}, "None")]
)
def test_postgresql_keeps_statements_prepared_unless_told_not_to(
    setting: dict[str, str], threshold: str
) -> None:
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['CONN_HEALTH_CHECKS'], d['OPTIONS'])"
    )
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/anything",
        **setting,
    )
    assert result.stdout.strip() == (
        "medguard_backend.postgres True "
        f"{{'server_side_binding': True, 'prepare_threshold': {threshold}}}"
    ), result.stderr


def test_site_base_url_is_an_alias_for_the_seeds_wagtail_variable() -> None:
    code = "from django.conf import settings; print(settings.SITE_BASE_URL)"
    result = run_manage(
        "shell", "--no-imports", "-c", code, WAGTAILADMIN_BASE_URL="https://app.medguard.co.za/"
    )
    assert result.stdout.strip() == "https://app.medguard.co.za"
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        WAGTAILADMIN_BASE_URL="https://old.example",
        SITE_BASE_URL="https://new.example",
    )
    assert result.stdout.strip() == "https://new.example"


def test_time_zone_and_languages() -> None:
    from django.conf import settings

    assert settings.TIME_ZONE == "Africa/Johannesburg"
    assert settings.USE_TZ is True
    assert [code for code, _ in settings.LANGUAGES] == ["en", "af"]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_prod_logs_to_a_rotating_file() -> None:
    code = (
        "from django.conf import settings; h = settings.LOGGING['handlers']['file'];"
        "print(h['class'], h['filename'])"
    )
    result = run_manage("shell", "--no-imports", "-c", code, settings="prod", **PROD)
    assert result.returncode == 0, result.stderr
    handler_class, filename = result.stdout.split()
    assert handler_class == "logging.handlers.RotatingFileHandler"
    assert filename.endswith("logs/django.log")


def test_manage_py_test_runs_the_pytest_suite_as_the_seed_shows() -> None:
    result = run_manage(
        "test", "accounts.tests.test_user", settings="test", MEDGUARD_TEST_DB_SUFFIX="_nested"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
