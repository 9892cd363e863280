"""Prometheus metrics at /metrics (prometheus-client, multiprocess mode).

- ``instruments``: the counters and histograms every process writes (web and workers).
- ``deliveries``: what a batch of deliveries did, read back from the database once it ran.
- ``snapshot``: what is measured when Prometheus scrapes (outbox backlog, queue depth,
  heartbeats), from the database and the broker.
- ``http``: API request latency by route.  ``views``: the endpoint and who may read it.
"""
