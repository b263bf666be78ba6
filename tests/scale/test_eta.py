"""The ETA comes from the rate the API is measured to answer at, not the rate we may call it."""

from __future__ import annotations

import pytest

from bench import workload
from reconciler.emulator import Emulator, LatencyModel, VirtualClock
from reconciler.emulator.generate import generate_partner
from reconciler.plan.eta import (
    MIN_SAMPLES,
    SAMPLES,
    WINDOW,
    RateMeter,
    estimate_eta,
    measured_rate,
)
from reconciler.plan.progress import Progress, ReadCounters
from reconciler.plan.reader import Reader
from tests.emulated import emulated_client

LIST = "list_pay_per_use_customer_resources"
CUSTOMERS = "list_sub_customers"


def steady(rate: float, count: int, start: float = 0.0) -> tuple[float, ...]:
    return tuple(start + n / rate for n in range(count))


@pytest.mark.parametrize(
    ("times", "nominal", "expected"),
    [
        pytest.param(steady(2.0, 20), None, 2.0, id="steady"),
        pytest.param(steady(2.0, 20), 1.0, 1.0, id="never-above-nominal"),
        pytest.param(steady(2.0, MIN_SAMPLES - 1), None, None, id="too-few-samples"),
        pytest.param(steady(100.0, 20), None, None, id="too-short-a-span"),
        pytest.param((), 10.0, None, id="nothing-yet"),
        pytest.param(
            steady(10.0, 50) + steady(1.0, 30, start=200.0), None, 1.0, id="old-samples-expire"
        ),
    ],
)
def test_measured_rate(
    times: tuple[float, ...], nominal: float | None, expected: float | None
) -> None:
    rate = measured_rate(times, nominal)
    assert rate == (pytest.approx(expected) if expected is not None else None)


def test_the_slowest_api_sets_the_eta() -> None:
    samples = {LIST: steady(2.0, 30), CUSTOMERS: steady(5.0, 30)}
    eta = estimate_eta({LIST: 100, CUSTOMERS: 100}, samples, {LIST: 10.0, CUSTOMERS: 10.0})
    assert eta == pytest.approx(50.0)  # 100 listings at the 2 per second measured, not 10


def test_no_estimate_until_every_busy_api_is_measured() -> None:
    samples = {LIST: steady(2.0, 30)}
    assert estimate_eta({LIST: 100, CUSTOMERS: 40}, samples, {CUSTOMERS: 10.0}) is None
    # a handful of calls left on an API not measured yet: counted at its nominal rate
    few = estimate_eta({LIST: 100, CUSTOMERS: MIN_SAMPLES - 1}, samples, {CUSTOMERS: 10.0})
    assert few == pytest.approx(50.0)
    assert estimate_eta({LIST: 0}, samples) is None, "nothing left: no ETA"


def test_the_meter_keeps_the_latest_samples() -> None:
    meter = RateMeter()
    for n in range(SAMPLES + 10):
        meter.record(LIST, float(n))
    kept = meter.samples()[LIST]
    assert len(kept) == SAMPLES and kept[-1] == SAMPLES + 9
    assert WINDOW > 0


class Recorder(Progress):
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.seen: list[tuple[float, float | None, int]] = []

    def update(self, counters: ReadCounters) -> None:
        left = counters.left("customer")
        self.seen.append((self.clock.time(), counters.eta_seconds, left))


def test_eta_tracks_an_api_slower_than_its_nominal_rate() -> None:
    """The API answers about 3 calls per second (it throttles the rest) while the client may
    make 10: the 600-customer plan that said "ETA 56s" and took 7 m 35 s, in miniature."""
    gen = generate_partner(150, resellers=3, quotas=4, seed=5)
    clock = VirtualClock()
    emu = Emulator(
        clock=clock, state_factory=lambda: gen.state, latency=LatencyModel(), rate_limit=3
    )
    client = emulated_client(emu, clock, max_attempts=100, rng_seed=1)
    progress = Recorder(clock)

    async def main() -> None:
        async with client:
            await Reader(client, progress=progress, clock=clock).read(workload.desired_state(gen))

    clock.run(main())
    end = clock.time()
    when, eta, left = progress.seen[len(progress.seen) // 2]
    actual = end - when
    assert eta is not None
    assert abs(eta - actual) / actual < 0.35, (eta, actual)
    nominal = left / client.rate_for(LIST)
    assert actual / nominal > 3, "the nominal rate would have promised a third of the time"
