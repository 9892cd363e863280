"""Request budgets: DRF's rates and scopes, counted with one atomic cache increment.

DRF's own throttles keep the time of every request in the window in one cache entry and
rewrite it whole on each request: work grows with the budget (600 timestamps pickled per
request at 600/min), and two concurrent requests each write back their own copy, so one of
them is forgotten and a racing client gets past its limit. Here each budget is a counter
that lives for one window from the client's first request in it: one round trip per
request, and an increment cannot be lost. The price is the usual one of windows: a client
may spend its budget at the end of one window and again at the start of the next.
"""

from __future__ import annotations

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
        try:
            count = self.cache.incr(self.key)
        except ValueError:
            # The first request of a window opens it (unless a concurrent one just did).
            if self.cache.add(self.key, 1, timeout=self.duration):
                self.cache.set(self._opened_key, self.now, timeout=self.duration)
                count = 1
            else:
                count = self.cache.incr(self.key)
        return count <= self.num_requests

    @property
    def _opened_key(self) -> str:
        return f"{self.key}:opened"

    def wait(self) -> float:
        """Seconds until the window ends (read only for a refused request)."""
        opened = self.cache.get(self._opened_key, self.now)
        return max(opened + self.duration - self.now, 1.0)


class AnonThrottle(AnonRateThrottle, CountingRateThrottle):
    """Anonymous callers, per address."""


class UserThrottle(UserRateThrottle, CountingRateThrottle):
    """Signed-in callers, per user, every request."""


class WriteRateThrottle(UserThrottle):
    """A second, smaller budget for requests that change state; reads only count against
    the general ``user`` rate."""

    scope = "user_write"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class ScopedThrottle(ScopedRateThrottle, CountingRateThrottle):
    """The view's ``throttle_scope`` (the login's attempts per address)."""
