"""Heartbeats of beat and of the workers consuming each queue, for /health/ and /metrics."""
