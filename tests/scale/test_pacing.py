"""The client's per-API accounting used by the benchmark and the worker pools."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.bss.ratelimit import PLAN_MARGIN, RateLimiter
from reconciler.emulator import VirtualClock


def test_busy_time_counts_only_while_callers_wait() -> None:
    clock = VirtualClock()
    limiter = RateLimiter(clock, 10.0)

    async def main() -> None:
        await asyncio.gather(*(limiter.acquire("api") for _ in range(5)))  # 5 queued: 0.5 s
        await clock.sleep(10.0)  # idle: not counted
        await limiter.acquire("api")  # alone: one slot, 0.1 s

    clock.run(main())
    stats = limiter.stats()["api"]
    assert stats.calls == 6
    # six slots of 1/rate each, plus the margin the pacer keeps (PLAN_MARGIN)
    assert stats.busy_seconds == pytest.approx(0.6 * (1 + PLAN_MARGIN), abs=1e-6)
    assert stats.utilisation == pytest.approx(1 / (1 + PLAN_MARGIN), abs=1e-6)
    assert stats.first_call == pytest.approx(0.0)
    assert stats.last_call == pytest.approx(10 + 0.4 * (1 + PLAN_MARGIN), abs=1e-6)


def test_recent_latency_is_the_slowest_recent_answer() -> None:
    limiter = RateLimiter(VirtualClock(), 10.0)
    assert limiter.recent_latency("api") is None
    for seconds in (0.1, 0.9, 0.2):
        limiter.observe("api", seconds)
    assert limiter.recent_latency("api") == 0.9
    for _ in range(200):  # the window moves on
        limiter.observe("api", 0.1)
    assert limiter.recent_latency("api") == 0.1
    stats = limiter.stats()["api"]
    assert stats.answered == 203 and stats.latency_max == 0.9
