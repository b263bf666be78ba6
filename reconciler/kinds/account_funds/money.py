"""The money of kind ``AccountFunds``: pure arithmetic, no I/O.

Every amount is a ``Decimal`` with two places. A *bound* is a floor (``topUpTo``), a cap
(``atMost``) or both (floor <= cap). What a bound compares against:

* a **resale customer**: its *net* cash, ``amount - debt_amount`` (REFERENCE §7.19). A transfer
  changes the net by exactly its amount whether or not the API uses it to repay the debt (which
  the REFERENCE does not say), so the plan's arithmetic does not rest on that unknown rule. Below
  the floor: transfer ``floor - net``; above the cap: reclaim ``net - cap``, which is never more
  than ``amount`` (the cap is >= 0 and the debt >= 0);
* a **reseller**: its allocatable account (``account_type`` 8, §7.23) *after this run's transfers
  with its own customers* (``amount + reclaimed from them - funded to them``), so that the
  reseller ends the run inside its bounds. Its ``designated_amount`` counts as its money but never
  moves: a reclaim releases at most what is not designated, and the rest above the cap cannot
  come back.

Order of the run (every inflow of an account comes before its outflows): 1. reclaims from
customers, 2. reclaims from resellers, 3. transfers to resellers, 4. transfers to customers.
:func:`supply` checks that each allocatable account can cover what leaves it at that point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def money(value: Decimal | str | int) -> Decimal:
    """An exact two-place amount (refuses sub-cent precision)."""
    amount = Decimal(value)
    quantised = amount.quantize(CENT)
    if quantised != amount:
        raise ValueError(f"{value} has more than two decimal places")
    return quantised


@dataclass(frozen=True)
class Bounds:
    """``floor`` (topUpTo) and/or ``cap`` (atMost); at least one is set and floor <= cap."""

    floor: Decimal | None = None
    cap: Decimal | None = None

    def __post_init__(self) -> None:
        if self.floor is None and self.cap is None:
            raise ValueError("a bound needs topUpTo, atMost or both")
        for value in (self.floor, self.cap):
            if value is not None and (value < ZERO or money(value) != value):
                raise ValueError(f"{value} is not a two-place amount >= 0.00")
        if self.floor is not None and self.cap is not None and self.floor > self.cap:
            raise ValueError(f"topUpTo {self.floor} is above atMost {self.cap}")

    def clamp(self, value: Decimal) -> Decimal:
        """The nearest value inside the bounds (``value`` itself when it is inside)."""
        if self.floor is not None and value < self.floor:
            return self.floor
        if self.cap is not None and value > self.cap:
            return self.cap
        return value


@dataclass(frozen=True)
class CustomerMove:
    """How one resale customer gets inside its bounds: at most one transfer, either way."""

    amount: Decimal
    debt: Decimal
    target: Decimal  # the net wanted
    fund: Decimal = ZERO  # partner (or reseller) -> customer
    reclaim: Decimal = ZERO  # customer -> partner (or reseller)

    @property
    def net(self) -> Decimal:
        return self.amount - self.debt

    @property
    def debt_covered(self) -> Decimal:
        """The part of a transfer that the customer's debt stands against."""
        return min(self.debt, self.fund)


def customer_move(amount: Decimal, debt: Decimal, bounds: Bounds) -> CustomerMove:
    """The transfer that takes a customer's net cash inside ``bounds``."""
    if amount < ZERO or debt < ZERO:
        raise ValueError(f"amount {amount} and debt {debt} must not be negative")
    net = amount - debt
    target = bounds.clamp(net)
    if target > net:
        return CustomerMove(amount, debt, target, fund=target - net)
    if target < net:
        return CustomerMove(amount, debt, target, reclaim=net - target)
    return CustomerMove(amount, debt, target)


@dataclass(frozen=True)
class Flows:
    """One reseller's transfers with its own customers in this run."""

    reclaimed: Decimal = ZERO  # from its customers, into its account (step 1)
    funded: Decimal = ZERO  # from its account, to its customers (step 4)


@dataclass(frozen=True)
class ResellerMove:
    """A reseller's allocatable account through the run.

    ``projected``: after its customers' transfers, before its own; ``stuck``: what is above the
    cap but designated (it cannot be reclaimed); ``shortfall``: what its customers' transfers
    need beyond what the account can give at step 4 (the plan cannot be applied).
    """

    amount: Decimal
    designated: Decimal
    flows: Flows
    target: Decimal | None  # the balance wanted after the run; None: the reseller is undeclared
    fund: Decimal = ZERO
    reclaim: Decimal = ZERO
    stuck: Decimal = ZERO

    @property
    def projected(self) -> Decimal:
        return self.amount + self.flows.reclaimed - self.flows.funded

    @property
    def final(self) -> Decimal:
        return self.projected + self.fund - self.reclaim

    @property
    def before_own_transfer(self) -> Decimal:
        """The balance its own transfer starts from: after step 1, before step 2 or 3."""
        return self.amount + self.flows.reclaimed

    @property
    def shortfall(self) -> Decimal:
        if self.flows.funded <= ZERO or self.final >= self.designated:
            return ZERO
        return self.designated - self.final


def reseller_move(
    amount: Decimal, designated: Decimal, flows: Flows, bounds: Bounds | None
) -> ResellerMove:
    """The reseller's own transfer, given its customers' transfers (see the module doc)."""
    if amount < ZERO or designated < ZERO:
        raise ValueError(f"amount {amount} and designated {designated} must not be negative")
    base = ResellerMove(amount, designated, flows, None)
    if bounds is None:
        return base
    projected = base.projected
    target = bounds.clamp(projected)
    if target > projected:
        return ResellerMove(amount, designated, flows, target, fund=target - projected)
    if target < projected:
        releasable = max(ZERO, projected - designated)
        reclaim = min(projected - target, releasable)
        stuck = projected - target - reclaim
        return ResellerMove(amount, designated, flows, target, reclaim=reclaim, stuck=stuck)
    return ResellerMove(amount, designated, flows, target)


@dataclass(frozen=True)
class Supply:
    """What the partner's allocatable account gives and receives in the run."""

    transferable: Decimal  # amount - designated_amount, before the run
    inflow: Decimal  # reclaims from the partner's customers and from resellers
    outflow: Decimal  # transfers to the partner's customers and to resellers

    @property
    def shortfall(self) -> Decimal:
        return max(ZERO, self.outflow - self.transferable - self.inflow)


def supply(
    transferable: Decimal,
    customers: Iterable[CustomerMove],
    resellers: Iterable[ResellerMove],
) -> Supply:
    """The partner's account over the run: ``customers`` are the partner's own (not a
    reseller's), ``resellers`` every reseller with a transfer of its own."""
    inflow, outflow = ZERO, ZERO
    for c in customers:
        inflow += c.reclaim
        outflow += c.fund
    for r in resellers:
        inflow += r.reclaim
        outflow += r.fund
    return Supply(transferable, inflow, outflow)


def flows_of(moves: Iterable[CustomerMove]) -> Flows:
    """A reseller's flows from the moves of its own customers."""
    reclaimed, funded = ZERO, ZERO
    for m in moves:
        reclaimed += m.reclaim
        funded += m.fund
    return Flows(reclaimed, funded)
