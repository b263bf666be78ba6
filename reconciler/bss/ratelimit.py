"""Client-side pacing: one bucket per API, so the client never causes a 429 by itself.

BSS throttles per (account, source IP, API) at 10 requests per second by default (REFERENCE §4).
Each API gets a :class:`Pacer` that spaces call *starts* at least ``1/rate`` seconds apart (burst
1), so no 1-second window ever holds more than ``rate`` starts. Different APIs have different
pacers and run concurrently. Every wait goes through the injected clock.

Callers of one API are served in arrival order (a FIFO lock), so they never race for a slot.

For benchmarks and for sizing worker pools, each API also records how long its answers take (the
time from the request leaving the pacer to the answer, pacing excluded) and how long it had work:
``busy_seconds`` is the union over calls of [asked for a slot, slot + 1/rate), so
``calls / (rate * busy_seconds)`` is the share of the budget used while callers were queued.

Why not aiolimiter (``bench/libraries.py``, docs/architecture.md): as ``AsyncLimiter(1, 1/rate)``
it paces like this class on the real clock (0 429s, at most 10 starts in any second) but never
finishes on the virtual clock our tests and the scale benchmark run on: it re-arms its timer for
the float residue of its leak, which on a virtual clock is "now" again. As ``AsyncLimiter(rate,
1)`` it lets a burst through: 19 starts in one second, which a sliding-window limiter answers
with 429s. And the worker pools need ``busy_seconds``, which it does not measure.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

from reconciler.emulator.clock import Clock

DEFAULT_RATE = 10.0
# Added to every interval so that float rounding can never squeeze rate+1 starts into 1 s.
_MARGIN = 1e-6
#: How many recent answers :meth:`RateLimiter.recent_latency` looks at.
LATENCY_WINDOW = 128


@dataclass(slots=True)
class ApiStats:
    """Counters for one API (for benchmarks and the apply report)."""

    calls: int = 0  # requests sent (each attempt counts)
    throttled: int = 0  # 429 answers received
    retries: int = 0  # attempts after the first
    rate: float = 0.0  # the API's pacing rate (requests per second)
    wait_seconds: float = 0.0  # time spent waiting for a pacer slot
    backoff_seconds: float = 0.0  # time spent in retry backoff
    busy_seconds: float = 0.0  # time with a caller queued or a slot interval running
    answered: int = 0  # attempts that got an answer or a transport error back
    latency_seconds: float = 0.0  # total time from leaving the pacer to the answer
    latency_max: float = 0.0
    first_call: float | None = None  # monotonic time of the first and the last slot
    last_call: float | None = None

    @property
    def utilisation(self) -> float | None:
        """Calls per second achieved while the API had work, as a share of ``rate``."""
        if not self.busy_seconds or not self.rate:
            return None
        return self.calls / (self.rate * self.busy_seconds)

    def snapshot(self) -> ApiStats:
        return replace(self)


class Pacer:
    """Spaces call starts at least ``1/rate`` seconds apart on ``clock``.

    Callers queue on a FIFO lock; each one waits until ``interval`` after the previous *actual*
    start, so a caller that woke late pushes the next ones back instead of letting them bunch up.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate}")
        self.rate = rate
        self.interval = 1.0 / rate + _MARGIN
        self._clock = clock
        self._last = float("-inf")
        self._lock = asyncio.Lock()
        self._busy_until = float("-inf")
        #: seconds with a caller queued or a slot interval running (see the module docstring)
        self.busy_seconds = 0.0

    async def acquire(self) -> float:
        """Wait for the next slot; return the seconds waited (queueing included)."""
        asked = self._clock.monotonic()
        async with self._lock:
            wait = self._last + self.interval - self._clock.monotonic()
            if wait > 0:
                await self._clock.sleep(wait)
            self._last = self._clock.monotonic()
        end = self._last + 1.0 / self.rate
        if end > self._busy_until:
            self.busy_seconds += end - max(asked, self._busy_until)
            self._busy_until = end
        return self._last - asked


class RateLimiter:
    """A :class:`Pacer` and :class:`ApiStats` per API name, created on first use."""

    def __init__(
        self,
        clock: Clock,
        default_rate: float = DEFAULT_RATE,
        rates: Mapping[str, float] | None = None,
    ) -> None:
        if not default_rate > 0:
            raise ValueError(f"rate must be > 0 requests per second, got {default_rate}")
        self._clock = clock
        self._default = default_rate
        self._rates = dict(rates or {})
        for api, rate in self._rates.items():
            if not rate > 0:
                raise ValueError(f"rate for {api} must be > 0 requests per second, got {rate}")
        self._pacers: dict[str, Pacer] = {}
        self._stats: dict[str, ApiStats] = {}
        self._recent: dict[str, deque[float]] = {}

    def rate(self, api: str) -> float:
        return self._rates.get(api, self._default)

    def pacer(self, api: str) -> Pacer:
        pacer = self._pacers.get(api)
        if pacer is None:
            pacer = self._pacers[api] = Pacer(self.rate(api), self._clock)
        return pacer

    def stats_for(self, api: str) -> ApiStats:
        stats = self._stats.get(api)
        if stats is None:
            stats = self._stats[api] = ApiStats(rate=self.rate(api))
        return stats

    async def acquire(self, api: str) -> None:
        """Wait for ``api``'s next slot and count the call."""
        pacer = self.pacer(api)
        waited = await pacer.acquire()
        stats = self.stats_for(api)
        stats.calls += 1
        stats.wait_seconds += waited
        stats.busy_seconds = pacer.busy_seconds
        now = self._clock.monotonic()
        if stats.first_call is None:
            stats.first_call = now
        stats.last_call = now

    def observe(self, api: str, seconds: float) -> None:
        """Record how long one answer of ``api`` took (pacing excluded)."""
        stats = self.stats_for(api)
        stats.answered += 1
        stats.latency_seconds += seconds
        stats.latency_max = max(stats.latency_max, seconds)
        recent = self._recent.get(api)
        if recent is None:
            recent = self._recent[api] = deque(maxlen=LATENCY_WINDOW)
        recent.append(seconds)

    def recent_latency(self, api: str) -> float | None:
        """The slowest of ``api``'s last answers (about its p99), ``None`` before any."""
        recent = self._recent.get(api)
        return max(recent) if recent else None

    def stats(self) -> dict[str, ApiStats]:
        """A snapshot of every API's counters, sorted by API name."""
        return {api: self._stats[api].snapshot() for api in sorted(self._stats)}
