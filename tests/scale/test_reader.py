"""The reader at (small) scale: the fewest calls, every bucket busy, no 429, the same plan as a
plain sequential loop, only what the manifests mention. Correctness of the reader, not timing:
everything runs on the emulator's virtual clock, and the figures are ratios of virtual time.
"""

from __future__ import annotations

import asyncio

import pytest

from bench import workload
from bench.plan_scale import minimum_for, run_plan
from reconciler.emulator import Emulator, LatencyModel, VirtualClock
from reconciler.emulator.generate import GeneratedPartner, generate_partner
from reconciler.errors import ApiError
from reconciler.plan.reader import Reader
from tests.emulated import emulated_client

RESOURCES = "list_pay_per_use_customer_resources"


@pytest.fixture(scope="module")
def partner() -> GeneratedPartner:
    # 300 customers, 2% of them with 600-2,000 resources (several pages of 100 each).
    return generate_partner(300, resellers=40, quotas=250, seed=4, heavy_share=0.02)


@pytest.fixture(scope="module")
def pipelined(partner: GeneratedPartner) -> dict[str, object]:
    desired = workload.desired_state(partner)
    return {"run": run_plan(partner, desired, 4, "pipelined"), "min": minimum_for(partner, desired)}


def _util(stats: dict[str, float]) -> float:
    return stats["calls"] / (stats["rate"] * stats["busy_seconds"])


def test_fewest_calls_and_no_429(pipelined: dict[str, object]) -> None:
    run, minimum = pipelined["run"], pipelined["min"]
    assert isinstance(run, dict) and isinstance(minimum, dict)
    assert run["throttled"] == 0
    assert run["calls"] / minimum["total"] <= 1.02
    for api, want in minimum["calls"].items():
        assert run["stats"].get(api, {"calls": 0})["calls"] <= want, api
    assert minimum["calls"][RESOURCES] > 300 + 6  # extra pages of the heavy customers


def test_buckets_busy_and_plan_at_the_floor(pipelined: dict[str, object]) -> None:
    run, minimum = pipelined["run"], pipelined["min"]
    assert isinstance(run, dict) and isinstance(minimum, dict)
    assert _util(run["stats"][RESOURCES]) >= 0.9
    assert _util(run["stats"]["list_issued_coupon_quotas"]) >= 0.9
    assert run["virtual_seconds"] / minimum["lower_bound"] <= 1.10
    assert run["first_line"].startswith("Reading live state for 300 customers, 40 resellers")


def test_same_plan_as_a_sequential_loop_and_the_peer(
    partner: GeneratedPartner, pipelined: dict[str, object]
) -> None:
    run = pipelined["run"]
    assert isinstance(run, dict)
    sequential = run_plan(partner, workload.desired_state(partner), 4, "sequential")
    assert sequential["plan_checksum"] == run["plan_checksum"]
    assert run["changes"] > 0 and run["notices"] > 0
    assert sequential["virtual_seconds"] / run["virtual_seconds"] > 2  # what pipelining buys
    peer = run_plan(partner, workload.desired_state(partner), 4, "peer")
    assert peer["plan_checksum"] == run["plan_checksum"]  # the bench's fair baseline
    assert peer["virtual_seconds"] > run["virtual_seconds"]


def test_pool_follows_latency_not_a_fixed_knob(partner: GeneratedPartner) -> None:
    """Answers taking 3 s need ~31 calls in flight to keep 10/s; the pool grows to that."""
    desired = workload.desired_state(partner, resellers=[])
    slow = run_plan(partner, desired, 4, "pipelined", latency=LatencyModel.constant(3.0))
    assert slow["throttled"] == 0
    assert _util(slow["stats"][RESOURCES]) >= 0.9


def test_a_few_customers_of_a_large_partner_cost_a_few_calls() -> None:
    gen = generate_partner(5_000, resellers=300, quotas=600, seed=9)
    small = workload.small_desired_state(gen, customers=10, resellers=2)
    run = run_plan(gen, small, 9, "pipelined")
    minimum = minimum_for(gen, small)
    stats = run["stats"]
    # 10 targeted lookups (one of them answered by the probe page), never 50 listing pages.
    assert stats["list_sub_customers"]["calls"] <= 11
    assert stats[RESOURCES]["calls"] == minimum["calls"][RESOURCES] < 40
    assert stats["list_indirect_partners"]["calls"] == 2
    assert run["calls"] <= minimum["total"] + 1
    assert run["throttled"] == 0


def test_a_failing_api_stops_the_whole_read() -> None:
    """An error that survives the client's retries (here a read's patience of 10 s) ends the
    read with that error, at once."""
    gen = generate_partner(400, resellers=20, quotas=40, seed=6)
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, latency=LatencyModel())
    emu.add_fault(RESOURCES, "http_500", count=1000, skip=50)
    client = emulated_client(emu, clock, read_patience=10.0)
    leftovers: list[asyncio.Task[object]] = []

    async def main() -> None:
        async with client:
            try:
                await Reader(client).read(workload.desired_state(gen))
            finally:
                await asyncio.sleep(0)
                current = asyncio.current_task()
                leftovers.extend(t for t in asyncio.all_tasks() if t is not current)

    with pytest.raises(ApiError) as caught:
        clock.run(main())
    assert caught.value.status == 500
    assert leftovers == []
    # It stopped soon after: far fewer resource calls than the 400 customers need.
    assert client.stats()[RESOURCES].calls < 250
