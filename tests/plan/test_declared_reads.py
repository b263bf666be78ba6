"""The reader makes what the kinds declare, for the objects each kind's own entries reference.

A customer named by two kinds (by ID in one, by account name in the other) is resolved once, and
the reads of the kind that declares them are made for it whichever reference resolves first; a
customer only a kind without reads names costs no read but its resolution.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from reconciler.emulator import Emulator, VirtualClock
from reconciler.emulator.credentials import DEFAULT_XACCOUNT_TYPE
from reconciler.emulator.generate import generate_partner
from reconciler.emulator.messages import EmulatorRequest, EmulatorResponse
from reconciler.errors import SourcePosition
from reconciler.kinds.account_managers.desired import ManagerAssignment
from reconciler.kinds.auto_renew.desired import AutoRenewRule
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.manifests.assemble import desired_state
from reconciler.manifests.desired import CustomerRef, Settings
from reconciler.plan.reader import Reader
from tests.emulated import emulated_client

RESOURCES_PATH = "/v2/orders/suscriptions/resources/query"
HERE = SourcePosition("m.yaml", 1, 1)


class CountingEmulator(Emulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.listed: Counter[str] = Counter()

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        if request.path == RESOURCES_PATH:
            body = json.loads(request.body) if request.body else {}
            self.listed[str(body.get("customer_id"))] += 1
        return super().handle(request)


def read(managers: list[ManagerAssignment], rules: list[AutoRenewRule]) -> tuple[Any, ...]:
    gen = generate_partner(30, resellers=0, quotas=0, seed=3, heavy_share=0.0)
    clock = VirtualClock()
    emu = CountingEmulator(clock=clock, state_factory=lambda: gen.state, rng_seed=3)
    client = emulated_client(emu, clock, agency_name=DEFAULT_XACCOUNT_TYPE)
    entries = {"account-manager": tuple(managers), "auto-renew": tuple(rules)}
    desired = desired_state(entries, Settings())
    reader = Reader(client, clock=clock)
    ready: list[str] = []

    async def main() -> None:
        async with client:
            await reader.read(desired, on_customer=ready.append)

    clock.run(main())
    return gen, reader, emu.listed, ready


def rule(ref: CustomerRef) -> AutoRenewRule:
    return AutoRenewRule(ref, True, None, None, {}, {}, HERE)


def test_a_customer_named_by_two_kinds_is_read_for_the_kind_that_declares_reads() -> None:
    gen = generate_partner(30, resellers=0, quotas=0, seed=3, heavy_share=0.0)
    first, second = list(gen.state.customers.values())[:2]
    managers = [
        ManagerAssignment(CustomerRef(first.customer_id, None, HERE), None, HERE),
        ManagerAssignment(CustomerRef(second.customer_id, None, HERE), None, HERE),
    ]
    rules = [rule(CustomerRef(None, first.account_name, HERE))]
    _, reader, listed, ready = read(managers, rules)
    assert reader.problems == []
    assert set(reader.live.lists(RESOURCES)) == {first.customer_id}
    assert listed == {first.customer_id: 1}  # one listing (one page), none for the other
    assert set(ready) == {first.customer_id, second.customer_id}  # the agency hook, each
    counters = reader.counters
    tally = counters.reads[RESOURCES.name]
    assert (counters.customers, tally.label, tally.total, tally.done) == (3, "resource lists", 1, 1)


def test_the_same_customer_twice_in_one_kind_is_listed_once() -> None:
    gen = generate_partner(30, resellers=0, quotas=0, seed=3, heavy_share=0.0)
    customer = next(iter(gen.state.customers.values()))
    rules = [
        rule(CustomerRef(customer.customer_id, None, HERE)),
        rule(CustomerRef(None, customer.account_name, HERE)),
    ]
    _, reader, listed, ready = read([], rules)
    assert list(listed) == [customer.customer_id] and listed[customer.customer_id] == 1
    assert ready == [customer.customer_id]
    tally = reader.counters.reads[RESOURCES.name]
    assert (tally.total, tally.done) == (1, 1)


def test_a_customer_record_keeps_what_the_kinds_naming_it_use() -> None:
    """Contact details only where an AccountManagers change will show them (masked); the ID,
    account name and manager always; the real-name name and label never (no kind uses them)."""
    gen = generate_partner(30, resellers=0, quotas=0, seed=3, heavy_share=0.0)
    agrees, differs, renews = list(gen.state.customers.values())[:3]
    assert agrees.email and differs.email and renews.email
    managers = [
        ManagerAssignment(
            CustomerRef(agrees.customer_id, None, HERE), agrees.account_manager, HERE
        ),
        ManagerAssignment(CustomerRef(None, differs.account_name, HERE), "someone-else", HERE),
    ]
    _, reader, _, _ = read(managers, [rule(CustomerRef(renews.customer_id, None, HERE))])
    kept = reader.live.customers
    assert kept[differs.customer_id].email == differs.email
    for customer in (agrees, renews):
        record = kept[customer.customer_id]
        assert (record.email, record.telephone, record.name, record.label) == (None,) * 4
        assert record.account_name == customer.account_name
        assert record.account_manager == customer.account_manager
    assert all(record.name is None for record in kept.values())


def test_resources_already_as_their_rule_wants_are_counted_not_kept() -> None:
    gen = generate_partner(30, resellers=0, quotas=0, seed=3, heavy_share=0.0)
    customers = list(gen.state.customers.values())
    _, reader, _, _ = read([], [rule(CustomerRef(c.customer_id, None, HERE)) for c in customers])
    live = reader.live
    managed = [r for r in gen.state.resources.values() if r.is_main_resource == 1 and r.status != 3]
    off = [r.resource_id for r in managed if r.expire_policy != 3]  # the rule: all on
    kept = [r.resource_id for resources in live.lists(RESOURCES).values() for r in resources]
    assert sorted(kept) == sorted(off)
    assert live.in_sync(RESOURCES) == len(managed) - len(off) > 0
    assert set(live.lists(RESOURCES)) == {c.customer_id for c in customers}  # each one read
