"""Request budgets: DRF's rates and scopes, counted with one atomic cache increment.

DRF's own throttles keep the time of every request in the window in one cache entry and
rewrite it whole on each request: work grows with the budget (600 timestamps pickled per
request at 600/min), and two concurrent requests each write back their own copy, so one of
them is forgotten and a racing client gets past its limit. Here each budget is a counter
that lives for one window from the client's first request in it: one round trip per
request, and an increment cannot be lost. The price is the usual one of windows: a client
may spend its budget at the end of one window and again at the start of the next.

The general per-user budget is checked on every request, reads included, and that round
trip cost the inbox list about as much CPU as its page query. So each process counts a
user's requests itself and adds them to the shared counter in batches (``LocalBatches``):
at most one round trip per ten requests for a busy client, while a request that would be
refused is always first checked against the shared count. A client spreading requests over
several processes can get at most (batch - 1) extra requests per other process in a window
(9 of 600 a minute per other process); the write budget, the anonymous one and the login
attempts are counted exactly, one round trip per request.

What the batches buy, measured A/B against counting every request (``python3 dev.py bench
api``, alternating runs on 2026-11-30 on the quiet 2-core machine, load average 2.6 to 4.1):
CPU per request (gunicorn + PostgreSQL + Redis, wrk at 2, 4 and 8 connections) 2.52 to 2.75
ms with batches (mean 2.63 over nine wrk runs), 2.88 to 3.18 ms counting every request
(mean 3.05 over six): batches save 14% of the CPU of the inbox list.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CountingRateThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle (same rates, scopes and cache keys) counted per window."""

    # Set by SimpleRateThrottle from the rate (not declared in its stubs).
    duration: int
    num_requests: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        return self.within_budget(self.key)

    def within_budget(self, key: str) -> bool:
        """Count this request against ``key``'s budget; whether the budget allows it."""
        return self.add_to_window(1) <= self.num_requests

    def add_to_window(self, requests: int) -> int:
        """Count ``requests`` more in this key's window; the window's count after them.

        A cache that cannot be reached (django-redis set to ignore its errors answers
        None) counts nothing: the API stays up and /health/ reports the cache."""
        try:
            count = self.cache.incr(self.key, requests)
        except ValueError:
            # The first request of a window opens it (unless a concurrent one just did).
            if self.cache.add(self.key, requests, timeout=self.duration):
                self.cache.set(self._opened_key, self.now, timeout=self.duration)
                return requests
            count = self.cache.incr(self.key, requests)
        return 0 if count is None else int(count)

    @property
    def _opened_key(self) -> str:
        return f"{self.key}:opened"

    def wait(self) -> float:
        """Seconds until the window ends (read only for a refused request)."""
        opened = self.cache.get(self._opened_key, self.now)
        return max(opened + self.duration - self.now, 1.0)


class AnonThrottle(AnonRateThrottle, CountingRateThrottle):
    """Anonymous callers, per address."""


@dataclass
class _KeyCount:
    shared: int  # the window's count when this process last added to it
    sending: int  # taken from ``pending`` by an addition still on its way
    pending: int  # allowed here, not yet added to the shared count
    added_at: float  # time.monotonic() of the last addition


class LocalBatches:
    """One process's not yet shared counts, per throttle key.

    A request is allowed here, without a round trip, while the batch has room, the last
    addition is recent, and the count known here (the shared count as last seen plus
    what this process has allowed since) stays within the budget. Otherwise the batch and
    the request are added to the shared count in one increment, and the request is
    allowed or refused on the count that comes back, so a refusal never rests on a count
    that is out of date (after a window has ended, the shared count starts again)."""

    MAX_KEYS = 10_000

    def __init__(self, size: int = 10, max_delay: float = 1.0) -> None:
        self.size = size
        self.max_delay = max_delay
        self._counts: dict[str, _KeyCount] = {}
        self._lock = threading.Lock()

    def allow(self, throttle: CountingRateThrottle, key: str) -> bool:
        budget, now = throttle.num_requests, time.monotonic()
        with self._lock:
            count = self._counts.get(key)
            if (
                count is not None
                and count.pending + 1 < self.size
                and now - count.added_at < self.max_delay
                and count.shared + count.sending + count.pending + 1 <= budget
            ):
                count.pending += 1
                return True
            if count is None:
                self._forget_idle_keys(now)
                count = self._counts[key] = _KeyCount(0, 0, 0, now)
            taken = count.pending + 1
            count.pending = 0
            count.sending += taken
        shared: int | None = None
        try:
            shared = throttle.add_to_window(taken)
        finally:
            with self._lock:
                count.sending -= taken
                if shared is not None:
                    # The latest count wins, lower ones too: a window may have ended.
                    count.shared = shared
                    count.added_at = now
        return shared <= budget

    def _forget_idle_keys(self, now: float) -> None:
        # Dropping a key idle for longer than max_delay loses at most size - 1 counts of a
        # client that has stopped sending; it bounds this process's memory.
        if len(self._counts) >= self.MAX_KEYS:
            for key in [k for k, c in self._counts.items() if now - c.added_at > self.max_delay]:
                del self._counts[key]


class UserThrottle(UserRateThrottle, CountingRateThrottle):
    """Signed-in callers, per user, every request: counted in batches per process where
    the budget is large enough for a batch to be a small part of it (600 a minute: 10)."""

    local_batches = LocalBatches()

    def within_budget(self, key: str) -> bool:
        if self.num_requests < 60 * self.local_batches.size:
            return super().within_budget(key)
        return self.local_batches.allow(self, key)


class WriteRateThrottle(UserRateThrottle, CountingRateThrottle):
    """A second, smaller budget for requests that change state, counted exactly; reads only
    count against the general ``user`` rate."""

    scope = "user_write"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class ScopedThrottle(ScopedRateThrottle, CountingRateThrottle):
    """The view's ``throttle_scope`` (the login's attempts per address)."""
