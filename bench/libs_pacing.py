"""Client pacing: our Pacer (reconciler/bss/ratelimit.py) against aiolimiter's AsyncLimiter.

The plan's time is set by each API's rate, so a pacer must keep its API at the floor (one call
start every 1/rate seconds while callers wait) and never cause a 429. The emulator throttles with
token buckets (burst = rate); the real API's algorithm is not documented, so we also count the
most call starts that fall in any 1-second window: above the rate, a sliding-window limiter
would answer 429. Measured:

* 200 reads of one API by 8 concurrent workers against the in-process emulator (10 requests
  per second), on the real clock: time / floor, 429s, the most starts in a 1-second window;
* CPU per slot of the pacer alone (8 tasks, 20,000 slots, no HTTP);
* whether it runs on the virtual clock that our tests and the scale benchmark use.

aiolimiter is measured as ``AsyncLimiter(1, 1/rate)`` (one call per interval, like ours) and as
``AsyncLimiter(rate, 1)`` (its documented "rate per second" form, which allows a burst).
"""

from __future__ import annotations

import asyncio
import bisect
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from aiolimiter import AsyncLimiter

from reconciler.bss import ratelimit
from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.emulator import DEMO_SEED_PATH, Emulator, VirtualClock
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS

RATE = 10.0
CALLS = 200  # 20 s of real time per candidate
WORKERS = 8
REPO = Path(__file__).resolve().parents[1]


class RecordingPacer(ratelimit.Pacer):
    """Ours, recording the start of every call."""

    starts: list[float]

    async def acquire(self) -> float:
        waited = await super().acquire()
        type(self).starts.append(self._clock.monotonic())
        return waited


class AioPacer(ratelimit.Pacer):
    """aiolimiter behind our Pacer's interface (the pools read ``rate`` and ``busy_seconds``)."""

    starts: list[float]
    burst = False

    def __init__(self, rate: float, clock: Clock) -> None:
        super().__init__(rate, clock)
        self._limiter = AsyncLimiter(rate, 1) if self.burst else AsyncLimiter(1, 1 / rate)

    async def acquire(self) -> float:
        asked = self._clock.monotonic()
        await self._limiter.acquire()
        now = self._clock.monotonic()
        type(self).starts.append(now)
        return now - asked


class AioBurstPacer(AioPacer):
    burst = True


CANDIDATES: dict[str, type[ratelimit.Pacer]] = {
    "ours (Pacer)": RecordingPacer,
    "aiolimiter AsyncLimiter(1, 1/rate)": AioPacer,
    "aiolimiter AsyncLimiter(rate, 1)": AioBurstPacer,
}


@dataclass
class PacingFigures:
    name: str
    time_over_floor: float
    throttled: int
    max_starts_per_second: int
    us_per_slot: float
    virtual_time: bool  # finishes on a virtual clock


def _max_in_window(starts: list[float], window: float = 1.0) -> int:
    ordered = sorted(starts)
    return max(bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered))


def _against_emulator(kind: type[ratelimit.Pacer]) -> tuple[float, int, int]:
    """Real time: aiolimiter cannot run on a virtual clock (see :func:`runs_on_virtual_time`)."""
    kind.starts = []  # type: ignore[attr-defined]
    emu = Emulator(seed=DEMO_SEED_PATH, rate_limit=RATE)
    creds = DEFAULT_CREDENTIALS
    client = BssClient(
        "https://bss.myhuaweicloud.com",
        Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id),
        transport=emu.async_transport(),
        rate=RATE,
    )

    async def worker(n: int) -> None:
        for _ in range(n):
            await client.list_sub_customers(limit=10)

    async def main() -> int:
        async with client:
            await asyncio.gather(*(worker(CALLS // WORKERS) for _ in range(WORKERS)))
            return sum(s.throttled for s in client.stats().values())

    with mock.patch.object(ratelimit, "Pacer", kind):
        throttled = asyncio.run(main())
    starts: list[float] = kind.starts  # type: ignore[attr-defined]
    floor = (len(starts) - 1) / RATE
    return (max(starts) - min(starts)) / floor, throttled, _max_in_window(starts)


def _us_per_slot(kind: type[ratelimit.Pacer], slots: int = 20_000) -> float:
    """CPU per slot on the real clock at a rate high enough that waits are short."""
    kind.starts = []  # type: ignore[attr-defined]
    pacer = kind(100_000.0, SystemClock())

    async def worker(n: int) -> None:
        for _ in range(n):
            await pacer.acquire()

    async def main() -> float:
        start = time.process_time()
        await asyncio.gather(*(worker(slots // WORKERS) for _ in range(WORKERS)))
        return (time.process_time() - start) / slots * 1e6

    return asyncio.run(main())


def virtual_slots(name: str, slots: int = 200) -> None:
    """``slots`` slots of candidate ``name`` at 10/s on a virtual clock (20 s of virtual time)."""
    kind = CANDIDATES[name]
    kind.starts = []  # type: ignore[attr-defined]
    clock = VirtualClock()
    pacer = kind(RATE, clock)

    async def main() -> None:
        for _ in range(slots):
            await pacer.acquire()

    clock.run(main())


def runs_on_virtual_time(name: str) -> bool:
    """Whether the candidate finishes on a virtual clock, where time only moves with timers.

    aiolimiter re-arms its timer for the float residue of its leak (about 1e-16 s ahead), which
    on a virtual clock is "now" again: it spins for ever. Our tests and benchmarks plan 100,000
    customers on virtual time, so a pacer must run there. Checked in a subprocess with a timeout.
    """
    code = f"from bench.libs_pacing import virtual_slots; virtual_slots({name!r})"
    try:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=20, cwd=REPO)
    except subprocess.TimeoutExpired:
        return False
    return True


def measure(candidates: dict[str, type[ratelimit.Pacer]] | None = None) -> list[PacingFigures]:
    figures = []
    for name, kind in (candidates or CANDIDATES).items():
        ratio, throttled, peak = _against_emulator(kind)
        virtual = runs_on_virtual_time(name)
        figures.append(PacingFigures(name, ratio, throttled, peak, _us_per_slot(kind), virtual))
    return figures
