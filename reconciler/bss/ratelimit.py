"""Client-side pacing: one bucket per API, so the client never causes a 429 by itself.

BSS throttles per (account, source IP, API) at 10 requests per second by default (REFERENCE §4).
Each API gets a :class:`Pacer` that hands out call *starts* on a schedule of planned slots
``(1 + PLAN_MARGIN) / rate`` seconds apart (burst 1). Slots follow the plan, not the moment a
caller happened to wake: a caller that wakes late (a busy event loop) does not push every later
slot back, so a long run keeps the rate. A caller that was queued in time but got there late
(the event loop stalled longer than an interval) keeps its planned slot too: the slots missed
meanwhile are caught up at once, at most one window's worth, and the write gate below keeps
those catch-up requests within the rate. Only when nobody was waiting for a slot (the pacer
was idle) does the schedule start afresh from now.

A late write followed by on-time ones could put ``rate + 1`` requests into some second, so the
pacer also gates on what really happened: a request is *written* to its socket no sooner than
``1 + WINDOW_MARGIN`` seconds after the write ``rate`` places before it (for a whole-number
rate). The gate is checked at the write itself: the client's HTTP/1.1 transport
(:mod:`reconciler.bss.http11`) calls :meth:`Pacer.admit` right before the one ``write`` of a
request, with no ``await`` between the two, and :meth:`Pacer.wrote` right after it, so the times
it counts are the times the bytes left (a connection being opened, or a process descheduled
between the slot and the write, cannot slip a request past it). A transport that does not call
the gate (httpx's own, when a proxy is configured; the in-process emulator) is gated at the slot
and its write recorded just before ``send``. ``WINDOW_MARGIN`` is smaller than ``PLAN_MARGIN``,
so lateness up to their difference costs nothing, and a longer delay is made up again by the
following slots. The margins keep the network's jitter from letting the server count
``rate + 1`` arrivals in one second; they cost 0.5% of the budget (docs/scale.md: the window
margin guarantees the server's count only while the one-way delay of requests ``rate`` apart
varies by less than it, 3 ms; a real network can vary more). Different APIs have different
pacers and run concurrently. Every wait goes through the injected clock.

Callers of one API are served in arrival order (a FIFO lock), so they never race for a slot.

For benchmarks and for sizing worker pools, each API also records how long its answers take (the
time from the request leaving the pacer to the answer, pacing excluded) and how long it had work:
``busy_seconds`` is the union over calls of [asked for a slot, slot + interval), so
``calls / (rate * busy_seconds)`` is the share of the budget used while callers were queued
(``1 / (1 + PLAN_MARGIN)`` at best).

Why not aiolimiter (``bench/libraries.py``, docs/architecture.md): as ``AsyncLimiter(1, 1/rate)``
it paces like this class on the real clock (0 429s, at most 10 starts in any second) but never
finishes on the virtual clock our tests and the scale benchmark run on: it re-arms its timer for
the float residue of its leak, which on a virtual clock is "now" again. As ``AsyncLimiter(rate,
1)`` it lets a burst through: 19 starts in one second, which a sliding-window limiter answers
with 429s. And the worker pools need ``busy_seconds``, which it does not measure.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

from reconciler.emulator.clock import Clock

DEFAULT_RATE = 10.0
#: Planned slots are ``(1 + PLAN_MARGIN) / rate`` apart: 0.5% of the budget.
PLAN_MARGIN = 0.005
#: Actual starts: never more than ``rate`` in any ``1 + WINDOW_MARGIN`` seconds, so that the
#: server, whose own clock sees each request a little later or sooner (the network, its threads:
#: a few milliseconds on a busy machine), still counts at most ``rate`` in any second. Smaller
#: than ``PLAN_MARGIN``, so a late start is made up by the slots after it (2 ms a second).
WINDOW_MARGIN = 0.003
#: The request extension a transport that ``paces_writes`` finds the API's :class:`Pacer` under.
PACER = "reconciler.pacer"
#: How many recent answers :meth:`RateLimiter.recent_latency` looks at.
LATENCY_WINDOW = 128
#: An answer outstanding this long makes :meth:`RateLimiter.waiting` report its API.
SLOW_AFTER = 10.0


@dataclass(frozen=True, slots=True)
class Waiting:
    """An API the client is waiting on: an answer outstanding for ``seconds``, or failing
    (``retries`` in a row, the last one for ``cause``) since ``seconds`` ago."""

    api: str
    seconds: float
    retries: int = 0
    cause: str | None = None

    def __str__(self) -> str:
        text = f"waiting on {self.api} for {self.seconds:.0f}s"
        if self.retries:
            text += f" (retry {self.retries}: {self.cause})"
        return text


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
    gated_seconds: float = 0.0  # time writes were held back by the window gate
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
    """Hands out call starts on ``clock``: planned slots ``interval`` apart, and never more than
    ``burst`` writes in any ``window`` seconds of actual writes (see the module docstring).

    Callers queue on a FIFO lock. When the pacer has been idle the next slot is now; otherwise it
    is the previous *planned* slot plus ``interval``, so a caller that woke late does not delay
    the ones after it.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate}")
        self.rate = rate
        self.interval = (1.0 + PLAN_MARGIN) / rate
        #: at most ``burst`` actual writes in any ``window`` seconds
        self.burst = max(1, math.floor(rate))
        self.window = self.burst * (1.0 + WINDOW_MARGIN) / rate
        self._clock = clock
        self._next = float("-inf")  # the planned time of the next slot
        self._writes: deque[float] = deque(maxlen=self.burst)  # the last actual writes
        self._lock = asyncio.Lock()
        self._busy_until = float("-inf")
        #: seconds with a caller queued or a slot interval running (see the module docstring)
        self.busy_seconds = 0.0
        #: seconds writes were held back by the window gate (lateness made up later)
        self.gated_seconds = 0.0

    async def acquire(self) -> float:
        """Wait for the next planned slot and the write gate; return the seconds waited
        (queueing included). The caller then writes and calls :meth:`wrote`."""
        asked = self._clock.monotonic()
        async with self._lock:
            now = self._clock.monotonic()
            # queued before its slot came: keep to the plan; the pacer was idle: start afresh
            planned = max(self._next, now - self.window) if asked <= self._next else now
            wait = planned - now
            if wait > 0:
                await self._clock.sleep(wait)
            self._next = planned + self.interval
        # The gate is passed outside the lock: a write held back (the write `burst` places
        # before it was late) must not hold the callers after it, whose own gates may be open;
        # under the lock every later slot would move back by the hold, for good.
        await self.admit()
        end = planned + self.interval
        if end > self._busy_until:
            self.busy_seconds += end - max(asked, self._busy_until)
            self._busy_until = end
        return self._clock.monotonic() - asked

    def gate(self) -> float:
        """The earliest time the next write may go: ``window`` after the write ``burst``
        places back (``-inf`` while fewer have been written)."""
        if len(self._writes) < self.burst:
            return float("-inf")
        return self._writes[0] + self.window

    async def admit(self) -> None:
        """Return once a write now keeps at most ``burst`` writes in any ``window`` seconds.
        Write before the next ``await``, then call :meth:`wrote`."""
        while True:
            wait = self.gate() - self._clock.monotonic()
            if wait <= 0:
                return
            self.gated_seconds += wait
            await self._clock.sleep(wait)

    def wrote(self) -> None:
        """A request of this API has just been written (call right after the write: a time
        read after it is never earlier than the bytes left)."""
        self._writes.append(self._clock.monotonic())


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
        self._flying: dict[str, dict[int, float]] = {}  # api -> attempt -> when it was sent
        self._failing: dict[str, tuple[float, int, str]] = {}  # api -> since, retries, cause
        self._attempts = 0

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
        stats.gated_seconds = pacer.gated_seconds
        now = self._clock.monotonic()
        if stats.first_call is None:
            stats.first_call = now
        stats.last_call = now

    def sent(self, api: str) -> int:
        """An attempt of ``api`` left the pacer; pass the token to :meth:`observe`."""
        self._attempts += 1
        self._flying.setdefault(api, {})[self._attempts] = self._clock.monotonic()
        return self._attempts

    def failed(self, api: str, cause: str, sent: float) -> None:
        """An attempt of ``api`` sent at ``sent`` failed and will be retried."""
        since, retries, _ = self._failing.get(api, (sent, 0, ""))
        self._failing[api] = (min(since, sent), retries + 1, cause)

    def succeeded(self, api: str) -> None:
        self._failing.pop(api, None)

    def waiting(self, slow_after: float = SLOW_AFTER) -> list[Waiting]:
        """The APIs with an answer outstanding for ``slow_after`` seconds or more, or failing."""
        now = self._clock.monotonic()
        found = []
        for api in sorted(set(self._flying) | set(self._failing)):
            flying = self._flying.get(api)
            oldest = next(iter(flying.values())) if flying else now  # sent in order
            since, retries, cause = self._failing.get(api, (now, 0, None))
            seconds = now - min(oldest, since)
            if retries or seconds >= slow_after:
                found.append(Waiting(api, seconds, retries, cause))
        return found

    def observe(self, api: str, seconds: float, token: int | None = None) -> None:
        """Record how long one answer of ``api`` took (pacing excluded)."""
        if token is not None:
            self._flying.get(api, {}).pop(token, None)
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
        for api, stats in self._stats.items():
            pacer = self._pacers.get(api)
            if pacer is not None:  # the transport's gate may have held writes since
                stats.gated_seconds = pacer.gated_seconds
        return {api: self._stats[api].snapshot() for api in sorted(self._stats)}
