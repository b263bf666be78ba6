"""The large-partner generator: deterministic, heavy-tailed, a valid seed, drift as asked."""

from __future__ import annotations

from decimal import Decimal

from reconciler.emulator import seed as seeds
from reconciler.emulator.generate import HEAVY_RANGE, generate_partner


def test_same_seed_same_partner() -> None:
    a = generate_partner(200, resellers=20, quotas=60, seed=7)
    b = generate_partner(200, resellers=20, quotas=60, seed=7)
    c = generate_partner(200, resellers=20, quotas=60, seed=8)
    assert list(a.state.customers) == list(b.state.customers)
    assert list(a.state.resources) == list(b.state.resources)
    assert a.quota_intent == b.quota_intent
    assert a.auto_renew_intent == b.auto_renew_intent
    assert list(a.state.customers) != list(c.state.customers)


def test_shape() -> None:
    gen = generate_partner(400, resellers=30, quotas=600, seed=3, heavy_share=0.02)
    counts = gen.resource_counts()
    heavy = [n for n in counts.values() if n > 500]
    assert heavy, "some customers must need more than one page of 500"
    assert all(HEAVY_RANGE[0] <= n <= HEAVY_RANGE[1] for n in heavy)
    light = [n for n in counts.values() if n <= 500]
    assert 2 <= sum(light) / len(light) <= 7  # a handful each, heavy-tailed
    assert 0 in light  # some customers have no yearly/monthly resources at all
    issued = gen.issued_counts()
    assert len(issued) == 30 and min(issued.values()) >= 1 and sum(issued.values()) == 600
    assert max(issued.values()) > 100  # a reseller whose quotas need two pages
    customers = list(gen.state.customers.values())
    assert any(c.agency_granted for c in customers) and not all(c.agency_granted for c in customers)
    assert any(c.account_manager for c in customers)
    assert any(c.account_manager is None for c in customers)
    policies = {r.expire_policy for r in gen.state.resources.values()}
    assert {0, 3} <= policies and len(policies) >= 4
    assert gen.drifted_resources > 0


def test_drift_is_what_intent_and_state_disagree_on() -> None:
    gen = generate_partner(300, resellers=10, quotas=40, seed=5, quota_drift=0.5)
    flipped = sum(
        1
        for r in gen.state.resources.values()
        if r.status == 2 and (r.expire_policy == 3) != gen.auto_renew_intent[r.customer_id]
    )
    assert flipped == gen.drifted_resources
    live: dict[tuple[str, str], Decimal] = {}
    for q in gen.state.quotas.values():
        if q.indirect_partner_id is not None and q.parent_quota_id is not None:
            key = (q.indirect_partner_id, q.parent_quota_id)
            valid = q.balance if q.quota_status == 0 else Decimal(0)
            live[key] = live.get(key, Decimal(0)) + valid
    differ = sum(1 for key, target in gen.quota_intent.items() if live[key] != target)
    assert differ == gen.drifted_quotas > 0


def test_generated_partner_is_a_valid_seed() -> None:
    gen = generate_partner(60, resellers=5, quotas=12, seed=11, heavy_share=0.05)
    state = seeds.build_state(gen.seed_document())
    assert state.customers.keys() == gen.state.customers.keys()
    assert state.resources.keys() == gen.state.resources.keys()
    assert state.quotas.keys() == gen.state.quotas.keys()
    for rid, res in gen.state.resources.items():
        again = state.resources[rid]
        assert (again.customer_id, again.expire_policy, again.status, again.expire_time) == (
            res.customer_id,
            res.expire_policy,
            res.status,
            res.expire_time,
        )
    for qid, quota in gen.state.quotas.items():
        assert (state.quotas[qid].balance, state.quotas[qid].quota_status) == (
            quota.balance,
            quota.quota_status,
        )
