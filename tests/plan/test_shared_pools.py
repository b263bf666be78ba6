"""Pools several kinds draw on (reconciler/plan/shared.py) with kinds made up for the test: which
changes apply runs in turn and in what order, and the plan's check against a simulated apply.

The end-to-end tests with the real kinds are tests/apply/test_shared_quota.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import SourcePosition
from reconciler.kinds.base import LiveState
from reconciler.kinds.spec import Draw, PoolKey
from reconciler.plan import shared
from reconciler.plan.model import Change

POOL: PoolKey = ("coupon-quota", "Q1")
OTHER: PoolKey = ("coupon-quota", "Q2")
THIRD: PoolKey = ("coupon-quota", "Q3")


@dataclass
class FakeKind:
    id: str
    title: str
    drawn: dict[str, tuple[Draw, ...]] = field(default_factory=dict)
    balances: dict[PoolKey, Decimal] = field(default_factory=dict)

    def draws(self, change: Change) -> Sequence[Draw]:
        return self.drawn.get(change.key, ())

    def balance(self, pool: PoolKey, live: LiveState) -> Decimal | None:
        return self.balances.get(pool)


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeKind]:
    found = {k: FakeKind(k, k.upper()) for k in ("first", "second", "third")}
    fake = SimpleNamespace(IDS=tuple(found), kind=lambda kind_id: found[kind_id])
    monkeypatch.setattr(shared, "registry", fake)
    return found


def change(kinds: dict[str, FakeKind], kind: str, name: str, *draws: Draw, line: int = 1) -> Change:
    key = f"{kind}/{name}"
    kinds[kind].drawn[key] = tuple(draws)
    where = SourcePosition("m.yaml", line, 1)
    return Change(kind, key, "issue", name, {}, {}, (), where, "fp")


def m(value: str | int) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def keys(steps: Sequence[shared.Step]) -> list[tuple[int, str, list[str]]]:
    return [(s.phase, s.kind, [c.key for c in s.changes]) for s in steps]


def test_without_a_pool_two_kinds_share_every_change_runs_as_before(kinds: Any) -> None:
    changes = [
        change(kinds, "first", "a", Draw(POOL, takes=m(5))),
        change(kinds, "second", "b", Draw(OTHER, takes=m(5))),
        change(kinds, "third", "c"),
    ]
    free, chains = shared.sequences(changes)
    assert free == changes and chains == []
    assert shared.check(changes, LiveState()) == []


def test_kinds_on_one_pool_run_in_turn_what_gives_back_first(kinds: Any) -> None:
    a = change(kinds, "first", "issue", Draw(POOL, takes=m(5)))
    b = change(kinds, "second", "reclaim", Draw(POOL, returns=m(3)))
    c = change(kinds, "second", "issue", Draw(POOL, takes=m(1)), Draw(THIRD, takes=m(1)))
    d = change(kinds, "third", "alone", Draw(OTHER, takes=m(9)))
    e = change(kinds, "first", "linked", Draw(THIRD, returns=m(2)))
    free, [chain] = shared.sequences([a, b, c, d, e])
    assert free == [d]  # its pool is no other kind's: it runs beside the sequence
    assert keys(chain) == [
        (0, "first", ["first/linked"]),  # THIRD is linked to POOL by second/issue
        (0, "second", ["second/reclaim"]),
        (1, "first", ["first/issue"]),
        (1, "second", ["second/issue"]),
    ]


def test_a_pool_drawn_beyond_its_balance_is_one_problem_naming_each_kind(kinds: Any) -> None:
    kinds["first"].balances[POOL] = m(100)
    kinds["second"].balances[POOL] = m(90)  # read later, lower: the lower one counts
    changes = [
        change(kinds, "first", "a", Draw(POOL, takes=m(60)), line=3),
        change(kinds, "second", "b", Draw(POOL, takes=m(40), returns=m(5)), line=9),
    ]
    [problem] = shared.check(changes, LiveState())
    assert problem.position == SourcePosition("m.yaml", 3, 1)
    assert problem.message == (
        "coupon quota Q1 is drawn on by 2 kinds (FIRST: takes 60.00 (at m.yaml:3:1); "
        "SECOND: takes 40.00, gives back 5.00 (at m.yaml:9:1)): 95.00 together (what is given "
        "back first counted), and it holds 90.00: lower them by 5.00 or top up the coupon quota"
    )


def test_an_unread_balance_stops_the_plan(kinds: Any) -> None:
    changes = [
        change(kinds, "first", "a", Draw(POOL, takes=m(1))),
        change(kinds, "second", "b", Draw(POOL, takes=m(1))),
    ]
    [problem] = shared.check(changes, LiveState())
    assert "none of them read its balance" in problem.message


def test_a_whole_draw_beside_another_kinds_draw_stops_the_plan(kinds: Any) -> None:
    kinds["first"].balances[POOL] = m(100)
    whole = change(kinds, "first", "a", Draw(POOL, whole=True))
    touch = change(kinds, "second", "b", Draw(POOL))
    assert shared.check([whole, touch], LiveState()) == []  # depending on it is no draw
    taking = change(kinds, "second", "c", Draw(POOL, takes=m(1)))
    [problem] = shared.check([whole, taking], LiveState())
    assert "FIRST: takes its whole balance" in problem.message
    assert "cannot run with another kind's draws on it" in problem.message


AMOUNTS = st.integers(min_value=0, max_value=5000).map(lambda n: m(n) / 100)
DRAWS = st.lists(
    st.tuples(st.sampled_from(["first", "second", "third"]), AMOUNTS, AMOUNTS, AMOUNTS),
    min_size=2,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(draws=DRAWS, balance=AMOUNTS)
def test_the_check_passes_exactly_the_runs_apply_can_make(
    draws: list[tuple[str, Decimal, Decimal, Decimal]], balance: Decimal
) -> None:
    """Simulate apply: the sequence's steps in order, each giving back before it takes (as a
    kind's group does); the plan passes exactly when no pool's balance goes below zero. Each
    change takes and gives back on one pool and takes from another (which can make a change
    that gives back on the first run after others that take from it)."""
    found = {
        k: FakeKind(k, k.upper(), balances={POOL: balance, OTHER: m(10**6)})
        for k in ("first", "second", "third")
    }
    fake = SimpleNamespace(IDS=tuple(found), kind=lambda kind_id: found[kind_id])
    with patch.object(shared, "registry", fake):
        changes = [
            change(found, kind, f"c{n}", Draw(POOL, takes, returns), Draw(OTHER, other))
            for n, (kind, takes, returns, other) in enumerate(draws)
        ]
        problems = shared.check(changes, LiveState())
        free, chains = shared.sequences(changes)
    if len({kind for kind, *_ in draws}) < 2:
        assert problems == [] and chains == []
        return
    assert free == [] and len(chains) == 1
    left = {POOL: balance, OTHER: m(10**6)}
    possible = True
    for step in chains[0]:
        draws_now = [d for c in step.changes for d in found[step.kind].drawn[c.key]]
        for pool in (POOL, OTHER):
            left[pool] += sum((d.returns for d in draws_now if d.pool == pool), m(0))
            takes = sum((d.takes for d in draws_now if d.pool == pool), m(0))
            possible = possible and takes <= left[pool]
            left[pool] -= takes
    assert (problems == []) == possible


def test_a_change_depending_on_a_pool_another_kind_moves_runs_before_the_move(
    kinds: Any,
) -> None:
    """Its fingerprint covers the pool's balance: run after the give-back it would look changed
    since the plan (skipped). It runs first, and the check walks the same order."""
    gives = change(kinds, "second", "gives", Draw(POOL, returns=m(3)))
    depends = change(kinds, "third", "depends", Draw(POOL), Draw(OTHER, takes=m(5)))
    takes = change(kinds, "first", "takes", Draw(OTHER, takes=m(1)))
    _, [chain] = shared.sequences([gives, depends, takes])
    assert keys(chain) == [
        (-1, "third", ["third/depends"]),
        (0, "second", ["second/gives"]),
        (1, "first", ["first/takes"]),
    ]
