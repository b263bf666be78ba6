"""Token buckets per (account, operation): capacity = rate, refilled at ``rate`` per second.

REFERENCE §4: 10 requests per second per API and account (ParentUid); exceeding it answers
429 ``APIG.0308``. Time comes from the emulator clock's ``monotonic()``, so a virtual clock
drives refills exactly. Buckets live in memory: each process counts its own calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.emulator.clock import Clock
from reconciler.emulator.errors import Throttled


@dataclass
class TokenBucket:
    rate: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """``rate <= 0`` disables limiting."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def acquire(self, account_id: str, operation: str) -> None:
        """Take one token or raise :class:`Throttled`."""
        if self.rate <= 0:
            return
        now = self._clock.monotonic()
        key = (account_id, operation)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, float(self.rate), now)
        if not bucket.take(now):
            raise Throttled(self.rate)

    def reset(self) -> None:
        self._buckets.clear()
