"""Reading configuration from the environment, failing loudly on bad values.

Every setting the project reads from the environment goes through here, so a malformed
value stops start-up with one line that names the variable (``ImproperlyConfigured``)
instead of surfacing later as a confusing error deep inside a library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zoneinfo
from collections.abc import Collection
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state of the embedded default (SQLite file, broker folders, caught mail) lives
# here, outside the source tree's packages and ignored by git.
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
_dotenv = BASE_DIR / ".env"
if _dotenv.exists():
    # Real environment variables win over .env, as twelve-factor tools expect.
    environ.Env.read_env(_dotenv, overwrite=False)


def is_set(name: str) -> bool:
    return bool(env.str(name, default="").strip())


def database_config(name: str, default: str) -> dict:
    raw = env.str(name, default=default)
    scheme = urlsplit(raw).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
        raise ImproperlyConfigured(
            f"{name} must be a sqlite:// or postgres:// URL, got scheme {scheme!r}"
        )
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from exc
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database")
    return config


def bool_value(name: str, default: bool) -> bool:
    raw = env.str(name, default="").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


RATE = re.compile(r"^\d+/\d*[smhd](/(ip|key|user))?$")


def rate_value(name: str, default: str) -> str:
    """allauth's rate limits: comma-separated ``<count>/<period>[/ip|key|user]``."""
    raw = env.str(name, default=default).strip()
    if not all(RATE.match(part.strip()) for part in raw.split(",")):
        raise ImproperlyConfigured(
            f"{name} must be rates like 20/m/ip,5/15m/key (count/period/by), got {raw!r}"
        )
    return raw


def int_value(name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.str(name, default="").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}")
    return value


def choice_value(name: str, default: str, choices: Collection[str]) -> str:
    """One of ``choices`` (compared in upper case, as log levels are written)."""
    value = env.str(name, default=default).strip().upper() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


_EMAIL_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def email_value(name: str, default: str) -> str:
    """An address, bare or with a display name (``MedGuard <noreply@example.org>``)."""
    value = env.str(name, default=default).strip()
    _display_name, address = parseaddr(value)
    if not _EMAIL_ADDRESS.match(address):
        raise ImproperlyConfigured(f"{name} must be an email address, got {value!r}")
    return value


_DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def dotted_path_value(name: str, default: str) -> str:
    """A class's import path (``package.module.Class``); imported when first used, since
    settings load before the apps that define the classes."""
    value = env.str(name, default=default).strip()
    if not _DOTTED_PATH.match(value):
        raise ImproperlyConfigured(
            f"{name} must be a dotted import path like package.module.Class, got {value!r}"
        )
    return value


def result_backend_value(name: str, default: str) -> str:
    """Celery's result backend: ``django-db`` / ``django-cache`` (django-celery-results) or
    a backend URL."""
    value = env.str(name, default=default).strip()
    if value in {"django-db", "django-cache"}:
        return value
    scheme = urlsplit(value).scheme
    if scheme in {"redis", "rediss", "rpc"} or scheme.startswith("db+"):
        return value
    raise ImproperlyConfigured(
        f"{name} must be django-db, django-cache or a redis://, rediss://, rpc:// or db+ URL; "
        f"got {value!r}"
    )


def time_zone(name: str, default: str) -> str:
    value = env.str(name, default=default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} is not a known IANA time zone: {value!r}") from None
    return value


def url_value(name: str, default: str, schemes: set[str]) -> str:
    value = env.str(name, default=default).strip()
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme == "filesystem"):
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}; got {value!r}")
    return value


# What Google's token exchange needs from a service-account key file.
_SERVICE_ACCOUNT_FIELDS = ("project_id", "client_email", "private_key", "token_uri")


def service_account_file_value(name: str) -> str:
    """The path of a Google service-account JSON key file, or "" when unset. The file is
    read now, so a wrong path or a file of another kind stops start-up rather than the
    first push."""
    value = env.str(name, default="").strip()
    if not value:
        return ""
    try:
        document = json.loads(Path(value).read_text(encoding="utf-8"))
    except OSError as error:
        raise ImproperlyConfigured(
            f"{name} must be a readable file, got {value!r} ({type(error).__name__})"
        ) from None
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a JSON file, got {value!r}") from None
    missing = [
        field
        for field in _SERVICE_ACCOUNT_FIELDS
        if not isinstance(document, dict) or not document.get(field)
    ]
    if not isinstance(document, dict) or document.get("type") != "service_account" or missing:
        raise ImproperlyConfigured(
            f"{name} must be a Google service-account key file (type service_account with "
            f"{', '.join(_SERVICE_ACCOUNT_FIELDS)}); {value!r} is not"
        )
    return value


def filesystem_broker_options(folder: Path, polling_interval: float) -> dict[str, object]:
    """Transport options of kombu's filesystem broker kept in ``folder`` (created here:
    kombu expects its folders to exist)."""
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "polling_interval": polling_interval,
    }


def _derived(purpose: str, secret: str) -> bytes:
    return hashlib.sha256(f"medguard {purpose}\x00{secret}".encode()).digest()


def fernet_keys_value(name: str, secret_key: str) -> list[str]:
    """Comma-separated Fernet keys (``Fernet.generate_key()``), the first current. Unset:
    one key derived from ``secret_key``, so the embedded default runs with no set-up (the
    production settings require the variable)."""
    from cryptography.fernet import Fernet

    raw = [part.strip() for part in env.str(name, default="").split(",") if part.strip()]
    if not raw:
        return [base64.urlsafe_b64encode(_derived("field encryption", secret_key)).decode()]
    for position, key in enumerate(raw, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{name}: key {position} is not a Fernet key (32 url-safe base64-encoded "
                "bytes, as Fernet.generate_key() makes)"
            ) from None
    return raw


def secret_keys_value(name: str, secret_key: str, minimum_length: int = 32) -> list[str]:
    """Comma-separated secrets of at least ``minimum_length`` characters, the first current.
    Unset: one derived from ``secret_key`` (see ``fernet_keys_value``)."""
    raw = [part.strip() for part in env.str(name, default="").split(",") if part.strip()]
    if not raw:
        return [_derived("blind index", secret_key).hex()]
    for position, key in enumerate(raw, start=1):
        if len(key) < minimum_length or len(set(key)) < 8:
            raise ImproperlyConfigured(
                f"{name}: key {position} must be at least {minimum_length} random characters"
            )
    return raw
