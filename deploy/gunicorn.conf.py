"""gunicorn settings for the web process (`gunicorn -c deploy/gunicorn.conf.py`).

Metrics: every gunicorn worker writes its own files under PROMETHEUS_MULTIPROC_DIR and any
of them answers /metrics by adding them up; the folder is emptied when the master starts
(a restart begins from zero, which Prometheus reads as a counter reset).
"""

import os
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Requests are short (the API pages its lists); anything slower is a bug to see, not wait on.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycle workers now and then, so a slow leak in a library cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: object) -> None:
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "var/metrics"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
