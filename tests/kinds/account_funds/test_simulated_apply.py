"""Property: a plan without problems applies in the run's order without overdrawing any account,
moves money only between accounts, and leaves nothing to do, whichever way the API treats a debt.

The simulation follows the emulator's rules (REFERENCE §7.17-§7.23): what leaves an allocatable
account is at most ``amount - designated_amount``, a reclaim from a customer at most its amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.kinds.account_funds.desired import FundsEntry
from reconciler.kinds.account_funds.diff import diff
from reconciler.kinds.account_funds.money import ZERO, Bounds
from reconciler.plan.model import Change

from .build import Live, customer, reseller

cents = st.integers(min_value=0, max_value=2_000_000).map(lambda n: Decimal(n) / 100)
PHASES = [("customer", "reclaim"), ("reseller", "reclaim"), ("reseller", "fund"),
          ("customer", "fund")]  # fmt: skip


@st.composite
def maybe_bounds(draw: st.DrawFn) -> Bounds | None:
    floor, cap = draw(st.none() | cents), draw(st.none() | cents)
    if floor is None and cap is None:
        return None
    if floor is not None and cap is not None and floor > cap:
        floor, cap = cap, floor
    return Bounds(floor, cap)


@dataclass
class World:
    """Balances as the emulator keeps them: [amount, designated] per owner, [amount, debt] per
    customer; ``owners[cid]`` is None for the partner's own customers."""

    accounts: dict[str | None, list[Decimal]] = field(default_factory=dict)
    customers: dict[str, list[Decimal]] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)

    def live(self) -> Live:
        partner = self.accounts[None]
        live = Live(f"{partner[0]:f}", f"{partner[1]:f}")
        for rid, (amount, designated) in self.accounts.items():
            if rid is not None:
                live.reseller(rid, f"{amount:f}", f"{designated:f}")
        for cid, (amount, debt) in self.customers.items():
            live.customer(cid, f"{amount:f}", f"{debt:f}", owner=self.owners[cid])
        return live

    def total(self) -> Decimal:
        return sum((a for a, _ in self.accounts.values()), ZERO) + sum(
            (a - d for a, d in self.customers.values()), ZERO
        )

    def take(self, owner: str | None, amount: Decimal) -> None:
        acct = self.accounts[owner]
        assert amount <= acct[0] - acct[1], f"overdraws {owner}: {amount} > {acct}"
        acct[0] -= amount

    def apply(self, change: Change, repay_debt: bool) -> None:
        body = change.calls[0].body or {}
        amount = Decimal(body["amount"])
        if change.key.startswith("account-funds/reseller/"):
            rid = body["indirect_partner_id"]
            giver, taker = (None, rid) if change.action == "fund" else (rid, None)
            self.take(giver, amount)
            self.accounts[taker][0] += amount
            return
        cash, owner = self.customers[body["customer_id"]], body.get("indirect_partner_id")
        if change.action == "reclaim":
            assert amount <= cash[0], "reclaims more than the customer holds"
            cash[0] -= amount
            self.accounts[owner][0] += amount
            return
        self.take(owner, amount)
        repaid = min(cash[1], amount) if repay_debt else ZERO
        cash[0] += amount - repaid
        cash[1] -= repaid


@st.composite
def worlds(draw: st.DrawFn) -> tuple[World, list[FundsEntry]]:
    world, entries = World(), []
    amount = draw(cents)
    world.accounts[None] = [amount, draw(st.integers(0, 100)) * amount / 100]
    world.accounts[None][1] = world.accounts[None][1].quantize(Decimal("0.01"))
    rids = [f"r{i}" for i in range(draw(st.integers(0, 3)))]
    for rid in rids:
        world.accounts[rid] = [draw(cents), draw(st.just(ZERO) | cents)]
        wanted = draw(maybe_bounds())
        if wanted is not None:
            entries.append(reseller(rid, _s(wanted.floor), _s(wanted.cap)))
    for n in range(draw(st.integers(1, 6))):
        cid, owner = f"c{n}", draw(st.sampled_from([None, *rids]))
        world.customers[cid] = [draw(cents), draw(st.just(ZERO) | cents)]
        world.owners[cid] = owner
        wanted = draw(maybe_bounds()) or Bounds(floor=draw(cents))
        entries.append(customer(cid, _s(wanted.floor), _s(wanted.cap), reseller=owner))
    return world, entries


def _s(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


@settings(max_examples=300, deadline=None)
@given(worlds(), st.booleans())
def test_a_plan_applies_in_order_without_overdraft_and_converges(
    scenario: tuple[World, list[FundsEntry]], repay_debt: bool
) -> None:
    world, entries = scenario
    result = diff(entries, world.live().live)
    if result.problems:
        return  # refused before anything is written; the unit cases cover the messages
    before = world.total()
    for recipient, action in PHASES:
        for change in result.changes:
            if change.key.split("/")[1] == recipient and change.action == action:
                world.apply(change, repay_debt)
    # money only moves between the accounts (a repaid debt leaves amount and debt alike)
    assert world.total() == before
    again = diff(entries, world.live().live)
    assert (again.changes, again.problems) == ([], [])
    assert {n.key for n in again.notices} == {n.key for n in result.notices}
