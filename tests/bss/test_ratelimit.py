# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Pacing: never more than ``rate`` starts in any 1-second window, APIs side by side."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import httpx
import pytest

from reconciler.bss.ratelimit import PACER, PLAN_MARGIN, WINDOW_MARGIN, Pacer, RateLimiter
from reconciler.emulator.clock import VirtualClock

from .fakes import FakeBss, make_client, reply

PATHS = {
    "list_sub_customers": ("POST", "/v2/partners/sub-customers/query"),
    "list_quota_coupons": ("POST", "/v2/partners/coupon-quotas/query"),
    "list_issued_coupon_quotas": ("GET", "/v2/partners/issued-coupon-quotas"),
}


class WindowedBss(FakeBss):
    """Answers 429 whenever a path got more than ``limit`` requests in the last second."""

    def __init__(self, clock: VirtualClock, limit: int = 10, latency: float = 0.0) -> None:
        super().__init__(clock, latency)
        self.limit = limit
        self.throttled = 0

    def judge(self, path: str):
        def answer(_request):
            now = self.clock.monotonic()
            recent = [s for s in self.calls(path) if now - s.at < 1.0]
            if len(recent) > self.limit:
                self.throttled += 1
                return reply(429, {"error_code": "APIG.0308", "error_msg": "throttled"})
            return reply(200, {"quotas": [], "customer_infos": [], "total_count": 0, "count": 0})

        return answer


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def _hammer(rates=None, per_api=35, latency=0.03):
    clock = VirtualClock()
    fake = WindowedBss(clock, latency=latency)
    for method, path in PATHS.values():
        fake.on(method, path, fake.judge(path))

    async def main():
        async with make_client(fake, rates=rates) as client:
            calls = []
            for _ in range(per_api):
                calls += [
                    client.list_sub_customers(),
                    client.list_quota_coupons(),
                    client.list_issued_coupon_quotas(),
                ]
            await asyncio.gather(*calls)
            return client.stats()

    stats = clock.run(main())
    return clock, fake, stats


def test_never_more_than_rate_per_second_and_apis_run_side_by_side():
    clock, fake, stats = _hammer()
    assert fake.throttled == 0
    for api, (_, path) in PATHS.items():
        times = [s.at for s in fake.calls(path)]
        assert len(times) == 35
        assert max_in_window(times) == 10
        gaps = [b - a for a, b in pairwise(times)]
        assert min(gaps) >= 0.1
        assert stats[api].calls == 35
        assert stats[api].throttled == 0
        assert stats[api].wait_seconds > 0
    # 35 calls per API at 10/s take ~3.4 s; run one API after another they would take ~10.2 s.
    assert 3.4 <= clock.monotonic() < 3.6


def test_per_api_rate_override():
    _, fake, _ = _hammer(rates={"list_quota_coupons": 2.0}, per_api=6)
    quota_times = [s.at for s in fake.calls(PATHS["list_quota_coupons"][1])]
    assert max_in_window(quota_times) == 2
    assert min(b - a for a, b in pairwise(quota_times)) >= 0.5
    customer_times = [s.at for s in fake.calls(PATHS["list_sub_customers"][1])]
    assert customer_times[-1] - customer_times[0] < 0.6


def test_an_idle_pacer_lets_the_next_call_go_at_once_then_spaces_again():
    clock = VirtualClock()
    pacer = Pacer(10.0, clock)
    starts: list[float] = []

    async def main():
        await pacer.acquire()
        starts.append(clock.monotonic())
        await clock.sleep(0.35)  # the caller was slow to come back
        for _ in range(3):
            await pacer.acquire()
            starts.append(clock.monotonic())

    clock.run(main())
    assert starts[1] == pytest.approx(0.35)
    gaps = [b - a for a, b in pairwise(starts[1:])]
    assert gaps == [pytest.approx((1 + PLAN_MARGIN) / 10, abs=1e-9)] * 2  # 1/rate plus the margin
    assert min(gaps) >= 0.1


def test_rates_must_be_positive():
    with pytest.raises(ValueError, match="> 0"):
        RateLimiter(VirtualClock(), 0)
    with pytest.raises(ValueError, match="list_sub_customers"):
        RateLimiter(VirtualClock(), 10, {"list_sub_customers": -1})


def test_unknown_api_in_rates_is_a_config_error():
    from reconciler.errors import ConfigError

    clock = VirtualClock()
    with pytest.raises(ConfigError, match="unknown API list_customer_resources"):
        make_client(FakeBss(clock), rates={"list_customer_resources": 5.0})
    with pytest.raises(ConfigError, match="http"):
        make_client(FakeBss(clock), endpoint="bss.myhuaweicloud.com")


def test_rate_for_and_agency_name():
    clock = VirtualClock()
    client = make_client(FakeBss(clock), rates={"update_coupon_quotas": 2.5}, agency_name="ag")
    assert client.rate_for("update_coupon_quotas") == 2.5
    assert client.rate_for("list_sub_customers") == 10.0
    assert client.agency_name == "ag"
    clock.run(client.aclose())


class LateClock(VirtualClock):
    """A virtual clock whose sleepers wake ``late(n)`` seconds after they asked to (a busy loop)."""

    def __init__(self, late) -> None:
        super().__init__()
        self.late = late
        self.sleeps = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        await super().sleep(seconds + self.late(self.sleeps))


def _starts(clock: VirtualClock, rate: float, n: int) -> list[float]:
    pacer = Pacer(rate, clock)
    starts: list[float] = []

    async def one() -> None:
        await pacer.acquire()
        pacer.wrote()  # written at once
        starts.append(clock.monotonic())

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(n)))

    clock.run(main())
    return starts


def test_late_wake_ups_do_not_push_the_later_slots_back():
    # Every fifth sleeper wakes 2 ms late. A pacer that counted from the actual start would lose
    # 2 ms each time (0.2 s over 500 calls); slots planned ahead lose nothing.
    clock = LateClock(lambda n: 0.002 if n % 5 == 0 else 0.0)
    starts = _starts(clock, 10.0, 501)
    planned = [n * (1 + PLAN_MARGIN) / 10 for n in range(501)]
    assert all(p - 1e-9 <= s <= p + 0.002 + 1e-9 for p, s in zip(planned, starts, strict=True))
    assert max_in_window(starts) <= 10


def test_a_long_delay_holds_back_the_tenth_start_after_it_then_is_made_up():
    # One start 50 ms late, the others on time: the tenth start after the late one would share
    # its second with the nine between them, so the window check holds it back; the schedule's
    # margin then makes the delay up, 2 ms a second.
    clock = LateClock(lambda n: 0.05 if n == 3 else 0.0)
    starts = _starts(clock, 10.0, 400)
    assert max_in_window(starts, 1.0 + WINDOW_MARGIN - 1e-9) == 10
    planned = [n * (1 + PLAN_MARGIN) / 10 for n in range(400)]
    assert starts[13] == pytest.approx(starts[3] + 1 + WINDOW_MARGIN)
    assert starts[13] > planned[13] + 0.04
    assert starts[-1] == pytest.approx(planned[-1], abs=1e-9)  # made up after 250 slots


@pytest.mark.parametrize("rate", [1.0, 2.5, 10.0, 40.0])
def test_random_lateness_never_exceeds_the_rate_in_any_window(rate):
    import random

    rng = random.Random(int(rate * 10))
    clock = LateClock(lambda n: rng.expovariate(1 / 0.002) if rng.random() < 0.3 else 0.0)
    n = int(rate * 60)
    starts = _starts(clock, rate, n)
    burst = max(1, int(rate))  # starts allowed in any burst / rate seconds (1 s for whole rates)
    assert max_in_window(starts, burst / rate) <= burst
    # Slots are planned ahead: random lateness costs about the worst single delay, not the sum.
    assert starts[-1] <= (n - 1) * (1 + PLAN_MARGIN) / rate + 0.05


def test_the_window_is_kept_on_actual_writes_not_on_slots():
    # Two requests spend 60 ms between their slot and their write (a connection being
    # opened, the process descheduled). A write 60 ms late followed by on-time ones would put
    # 11 writes into some second at the server (the next test); the gate before the write (as
    # the client's transport asks it) holds those back.
    clock = VirtualClock()
    pacer = Pacer(10.0, clock)
    slots: list[float] = []
    writes: list[float] = []

    async def one(n: int) -> None:
        await pacer.acquire()
        slots.append(clock.monotonic())
        if n in (3, 104):
            await clock.sleep(0.06)
        await pacer.admit()
        writes.append(clock.monotonic())  # nothing awaited between the gate and the write
        pacer.wrote()

    async def main() -> None:
        await asyncio.gather(*(one(n) for n in range(600)))

    clock.run(main())
    assert max_in_window(writes, 1.0 + WINDOW_MARGIN - 1e-9) == 10
    assert pacer.gated_seconds > 0
    # the held writes are made up by the schedule's margin: the last one goes as planned
    assert writes[-1] == pytest.approx(599 * (1 + PLAN_MARGIN) / 10, abs=1e-9)


def test_without_the_gate_late_writes_would_crowd_a_second():
    # The reason for the test above: the same delays with the writes not gated.
    clock = VirtualClock()
    pacer = Pacer(10.0, clock)
    writes: list[float] = []

    async def one(n: int) -> None:
        await pacer.acquire()
        if n in (3, 104):
            await clock.sleep(0.06)
        writes.append(clock.monotonic())

    async def main() -> None:
        await asyncio.gather(*(one(n) for n in range(300)))

    clock.run(main())
    assert max_in_window(writes, 1.0) == 11


class GatingTransport(httpx.AsyncBaseTransport):
    """A transport that gates its writes as the client's own does, some after a delay."""

    paces_writes = True

    def __init__(self, clock: VirtualClock, delay_every: int, delay: float) -> None:
        self.clock = clock
        self.delay_every = delay_every
        self.delay = delay
        self.writes: list[float] = []
        self.pacers: list[Pacer] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pacer = request.extensions[PACER]
        self.pacers.append(pacer)
        if len(self.pacers) % self.delay_every == 0:
            await self.clock.sleep(self.delay)  # e.g. a connection being opened
        await pacer.admit()
        self.writes.append(self.clock.monotonic())
        pacer.wrote()
        await self.clock.sleep(0.05)
        body = b'{"quotas": [], "total_count": 0}'
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})


def test_the_client_hands_its_pacer_to_a_transport_that_gates_writes():
    from reconciler.bss.client import BssClient
    from reconciler.bss.credentials import Credentials, Secret

    clock = VirtualClock()
    transport = GatingTransport(clock, delay_every=5, delay=0.08)
    client = BssClient(
        "https://bss.example.com",
        Credentials(ak="AK", sk=Secret("SK"), domain_id="partner"),
        transport=transport,
        clock=clock,
    )

    async def main() -> None:
        async with client:
            await asyncio.gather(*(client.list_quota_coupons() for _ in range(120)))

    clock.run(main())
    assert len(transport.writes) == 120
    assert {id(p) for p in transport.pacers} == {id(client._limiter.pacer("list_quota_coupons"))}
    assert max_in_window(transport.writes, 1.0 + WINDOW_MARGIN - 1e-9) <= 10
    assert client.stats()["list_quota_coupons"].gated_seconds > 0


@pytest.mark.parametrize("seed", range(3))
def test_held_writes_do_not_move_the_slots_after_them(seed):
    # A busy machine: 30% of the writes a few ms late after their slot, 5% stalled 100-300 ms.
    # A write that would be the eleventh in a second waits for the window, but the callers after
    # it must not wait behind it: the slots stay on plan and the last write goes about on time.
    # (With the gate under the pacer's lock each hold moved every later slot back, for good:
    # 0.5-1.1 s lost over these 1,500 calls, and 0.7 s in a real 150 s plan on a busy machine.)
    import random

    rng = random.Random(seed)

    def delay() -> float:
        if rng.random() < 0.05:
            return rng.uniform(0.1, 0.3)
        return rng.expovariate(1 / 0.005) if rng.random() < 0.3 else 0.0

    delays = [delay() for _ in range(1500)]
    clock = VirtualClock()
    pacer = Pacer(10.0, clock)
    writes: list[float] = []

    async def one(n: int) -> None:
        await pacer.acquire()
        if delays[n]:
            await clock.sleep(delays[n])
        await pacer.admit()
        writes.append(clock.monotonic())
        pacer.wrote()

    async def main() -> None:
        await asyncio.gather(*(one(n) for n in range(1500)))

    clock.run(main())
    assert pacer.gated_seconds > 0
    assert max_in_window(writes, 1.0 + WINDOW_MARGIN - 1e-9) == 10
    assert max(writes) - 1499 * (1 + PLAN_MARGIN) / 10 <= 0.3  # at most about one stall


def test_a_stalled_loop_catches_up_the_slots_it_missed_within_the_window():
    # The event loop stalls 450 ms once (a busy machine) while callers are queued: the slots it
    # missed are caught up at once, within the rate (the write gate), and the run ends on plan
    # instead of 0.35 s late for good.
    clock = LateClock(lambda n: 0.45 if n == 20 else 0.0)
    starts = _starts(clock, 10.0, 300)
    planned = [n * (1 + PLAN_MARGIN) / 10 for n in range(300)]
    assert starts[-1] == pytest.approx(planned[-1], abs=1e-9)
    assert max_in_window(starts, 1.0 + WINDOW_MARGIN - 1e-9) == 10
    assert sum(1 for a, b in pairwise(starts) if b - a < 1e-9) >= 3  # the catch-up


def test_an_idle_pacer_does_not_save_up_slots():
    # Nobody waited for the slots of an idle second: the next caller starts afresh, and the
    # one after it waits a full interval (no burst of saved-up slots).
    clock = VirtualClock()
    pacer = Pacer(10.0, clock)
    starts: list[float] = []

    async def main() -> None:
        await pacer.acquire()
        pacer.wrote()
        await clock.sleep(5.0)
        for _ in range(3):
            await pacer.acquire()
            pacer.wrote()
            starts.append(clock.monotonic())

    clock.run(main())
    assert starts == pytest.approx(
        [5.0, 5.0 + (1 + PLAN_MARGIN) / 10, 5.0 + 2 * (1 + PLAN_MARGIN) / 10]
    )
