"""Offset paging over a set that changes while it is read (research B8 T10).

Customers are deleted and inserted while the whole-partner listing runs, and a heavy customer's
resources change between the pages of its listing. The reader must find every customer the
manifests name that still exists, keep no duplicates, and re-read a listing whose total moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bench import workload
from reconciler.emulator import Emulator, LatencyModel, VirtualClock
from reconciler.emulator.credentials import DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import generate_partner
from reconciler.emulator.messages import EmulatorRequest, EmulatorResponse
from reconciler.emulator.models import Customer
from reconciler.errors import IncompleteListingError
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.plan.reader import Reader
from tests.emulated import emulated_client

CUSTOMERS_PATH = "/v2/partners/sub-customers/query"
RESOURCES_PATH = "/v2/orders/suscriptions/resources/query"
Hook = Callable[[EmulatorRequest, dict[str, object]], None]


class ShiftingEmulator(Emulator):
    """Calls ``before(request, body)`` ahead of answering each request, and logs the bodies."""

    def __init__(self, before: Hook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.before = before
        self.bodies: list[tuple[str, dict[str, object]]] = []

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        body = json.loads(request.body) if request.body else {}
        self.bodies.append((request.path, body))
        self.before(request, body)
        return super().handle(request)


def test_customers_and_resources_moving_while_read() -> None:
    gen = generate_partner(2_000, resellers=0, quotas=0, seed=12, heavy_share=0.005)
    state = gen.state
    ids = list(state.customers)
    victims = set(ids[50:90])  # not in the manifests; deleting them shifts every later offset
    named = [cid for cid in ids if cid not in victims]
    desired = workload.desired_state(gen, customers=named, resellers=[])
    counts = gen.resource_counts()
    heavy = max(named, key=lambda cid: counts[cid])
    assert counts[heavy] > 1000
    removed: list[str] = []
    customer_pages = heavy_pages = 0

    def before(request: EmulatorRequest, body: dict[str, object]) -> None:
        nonlocal customer_pages, heavy_pages
        if request.path == CUSTOMERS_PATH:
            customer_pages += 1
            if customer_pages == 6:  # the listing is under way
                for rid in [r for r, res in state.resources.items() if res.customer_id in victims]:
                    del state.resources[rid]
                for cid in victims:
                    del state.customers[cid]
                # Newcomers: one early (items move up: repeats across pages), others at the end.
                for n, when in enumerate(["2024-06-01T00:00:00Z"] + ["2026-01-01T00:00:00Z"] * 5):
                    cid = f"{n:032x}"
                    state.customers[cid] = Customer(cid, f"newcomer-{n}", associated_on=when)
                state.invalidate()
        elif body.get("customer_id") == heavy:
            heavy_pages += 1
            if heavy_pages == 2:  # between the pages of the heavy customer's listing
                mine = [r for r, res in state.resources.items() if res.customer_id == heavy]
                for rid in mine[:3]:
                    del state.resources[rid]
                    removed.append(rid)
                state.invalidate()

    clock = VirtualClock()
    emu = ShiftingEmulator(
        before,
        clock=clock,
        state_factory=lambda: state,
        latency=LatencyModel(0.12, 1.5),
        rng_seed=12,
    )
    client = emulated_client(emu, clock, agency_name=DEFAULT_XACCOUNT_TYPE)
    reader = Reader(client)

    async def main() -> None:
        async with client:
            await reader.read(desired)

    clock.run(main())
    live = reader.live

    assert reader.problems == []  # every named customer found, although offsets moved
    assert set(live.customers) == set(named)
    assert customer_pages > 20  # the listing, then lookups of what it missed
    assert removed and heavy_pages == 2 * len(range(0, counts[heavy], 100))  # read twice
    # Read whole after its second reading; kept: the main resources its rule would change (the
    # reader counts those already as the rule wants instead of keeping them).
    default = gen.auto_renew_intent[heavy]
    mine = [res for res in state.resources.values() if res.customer_id == heavy]
    managed = [r for r in mine if r.is_main_resource == 1 and r.status != 3]
    want = sorted(r.resource_id for r in managed if (r.expire_policy == 3) != default)
    got = [r.resource_id for r in live.lists(RESOURCES)[heavy]]
    assert sorted(got) == want and not set(removed) & set(got)
    assert live.in_sync(RESOURCES) >= len(managed) - len(want) > 0  # counted, once
    for cid, resources in live.lists(RESOURCES).items():
        rids = [r.resource_id for r in resources]
        assert len(rids) == len(set(rids)), cid
    # Each customer's listing was started once (a repeated customer is not read twice), but for
    # the heavy customer's second reading.
    firsts = [
        b["customer_id"] for p, b in emu.bodies if p == RESOURCES_PATH and not b.get("offset")
    ]
    assert len(firsts) == len(set(firsts)) + 1 == len(named) + 1


def test_a_clamped_resource_listing_fails_closed() -> None:
    """The reader's own paging (a heavy customer's resources): an API that clamps the page size
    to 60 instead of refusing limit=100 serves pages that would skip items, and the plan stops
    with the cause instead of deciding on part of the listing."""
    gen = generate_partner(40, resellers=0, quotas=0, seed=12, heavy_share=0.2)
    counts = gen.resource_counts()
    heavy = min((cid for cid in counts if counts[cid] > 100), key=lambda cid: counts[cid])
    desired = workload.desired_state(gen, customers=[heavy], resellers=[])
    clock = VirtualClock()
    emu = Emulator(clock=clock, state_factory=lambda: gen.state, rng_seed=12)
    emu.add_fault("list_pay_per_use_customer_resources", "page_limit", count=1000, value=60)
    client = emulated_client(emu, clock, agency_name=DEFAULT_XACCOUNT_TYPE)
    reader = Reader(client)

    async def main() -> None:
        async with client:
            await reader.read(desired)

    with pytest.raises(IncompleteListingError) as err:
        clock.run(main())
    # The first page holds 60 of a total above 100: the reader stops right there.
    assert f"(list_pay_per_use_customer_resources) returned 60 of the {counts[heavy]} items" in str(
        err.value
    )
    assert "served at most 60 items per page although limit=100 was asked" in str(err.value)
