"""Running it in production: metrics, heartbeats, structured logs. Imported by base.py.

Kept apart from base.py so that what an operator tunes for monitoring reads in one place.
"""

from __future__ import annotations

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

from .env import VAR_DIR, env, int_value


def _networks(name: str, default: str) -> list[str]:
    values = [v.strip() for v in env.str(name, default=default).split(",") if v.strip()]
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {value!r} is not an IP address or network"
            ) from None
    return values


# --- Metrics (/metrics, Prometheus) ---------------------------------------------------------
# Every process (gunicorn workers, Celery pool processes) writes its counters to files in
# this folder and /metrics adds them up (prometheus-client's multiprocess mode). It must be
# emptied when the whole application starts (deploy/ does it) and be private to one machine.
# prometheus-client reads the variable itself, so it is exported to the environment here,
# before any metric exists, and child processes inherit it.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "metrics"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
# Who may read /metrics: a client sending `Authorization: Bearer <METRICS_TOKEN>` (when
# set), or one whose address is in METRICS_ALLOWED_NETWORKS (loopback by default).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = _networks("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
# A worker on a machine of its own serves its own metrics on this port (0: it does not;
# the web's /metrics on the same machine already includes them).
METRICS_WORKER_PORT = int_value("METRICS_WORKER_PORT", 0)

# --- Liveness (/health/) ----------------------------------------------------------------------
# Each worker writes a heartbeat for the queues it consumes this often, and /health/ says
# "no worker consumes" a queue whose last heartbeat is older than WORKER_HEARTBEAT_MAX_AGE.
WORKER_HEARTBEAT_SECONDS = int_value("WORKER_HEARTBEAT_SECONDS", 15, minimum=1)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = int_value("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 60, minimum=1)
# Beat runs the "Beat Heartbeat" task every 30 seconds; silent for longer than this, it is
# reported as down.
BEAT_HEARTBEAT_MAX_AGE_SECONDS = int_value("BEAT_HEARTBEAT_MAX_AGE_SECONDS", 120, minimum=1)

# --- Logs ---------------------------------------------------------------------------------------
# "text" (one readable line per record) or "json" (one JSON object per line, for a log
# shipper), each with the request id and task id of the work it belongs to.
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {LOG_FORMAT!r}")

# --- Key rotation -----------------------------------------------------------------------------
# Old SECRET_KEYs still accepted for signatures (sessions, password-reset links) while a new
# one is rolled out: put the old key here, the new one in SECRET_KEY, and drop the old one
# once sessions signed with it have expired (deploy/README.md, "Rotating keys").
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
