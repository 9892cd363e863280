"""The metrics every process writes. prometheus-client's multiprocess mode keeps them in
files under PROMETHEUS_MULTIPROC_DIR (one per process), which /metrics adds up, so counts
made in a Celery pool process or another gunicorn worker are seen by whichever answers.

Counters and histograms only: they add up across processes without a rule to choose.
"""

from __future__ import annotations

import os

from django.conf import settings
from prometheus_client import Counter, Histogram, values

# The settings exported the folder; make sure the value class follows it even if
# prometheus-client was imported before the settings were read.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", settings.PROMETHEUS_MULTIPROC_DIR)
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
values.ValueClass = values.get_value_class()

# Seconds: a reminder sent within a minute is on time, one 2 minutes late pages someone.
LATENESS_BUCKETS = (1, 5, 10, 20, 30, 60, 90, 120, 180, 300, 600, 1800, 3600)
PROVIDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

DELIVERIES = Counter(
    "medguard_deliveries",
    "Deliveries that reached a final status, by channel and status (sent, failed, skipped).",
    ["channel", "status"],
)
ATTEMPTS = Counter(
    "medguard_delivery_attempts",
    "Attempts to hand a delivery to its provider, by channel and outcome.",
    ["channel", "outcome"],
)
FAILURES = Counter(
    "medguard_delivery_failures",
    "Failed attempts by channel, reason and whether the failure is permanent.",
    ["channel", "reason", "permanent"],
)
PROVIDER_LATENCY = Histogram(
    "medguard_provider_latency_seconds",
    "Time from starting an attempt to the provider's answer, by channel.",
    ["channel"],
    buckets=PROVIDER_BUCKETS,
)
REMINDER_LATENESS = Histogram(
    "medguard_reminder_lateness_seconds",
    "Time from a dose's due time to its reminder's delivery being sent, by channel. The "
    "in-app delivery is a reminder's first.",
    ["channel"],
    buckets=LATENESS_BUCKETS,
)
REQUEST_LATENCY = Histogram(
    "medguard_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route (the URL pattern) and status class.",
    ["method", "route", "status"],
    buckets=REQUEST_BUCKETS,
)
