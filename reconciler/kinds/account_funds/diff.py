"""The pure diff of kind ``AccountFunds``: declared bounds against live cash, into changes.

For each declared resale customer, at most one transfer (:func:`money.customer_move`); for each
reseller that is declared or owns a declared customer, its own transfer given its customers'
(:func:`money.reseller_move`); then the supply checks, every one before anything is written:

* the partner's allocatable account (``account_type`` 8, exactly one) less its
  ``designated_amount`` plus this run's reclaims into it must cover this run's transfers out of
  it (REFERENCE §7.17, §7.23);
* a reseller whose customers are funded: its allocatable account, after this run's reclaims and
  its own top-up, less its designated part, must cover them (§7.17 ``indirect_partner_id``).

Live data the money rests on that is missing or not understood (no allocatable account, a
declared customer the balances answer left out, an amount in another unit) is a problem at the
entry's ``file:line:col``, never a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.bss.cash import ALLOCATABLE, allocatable
from reconciler.kinds.account_funds import changes as make
from reconciler.kinds.account_funds.money import (
    ZERO,
    CustomerMove,
    customer_move,
    flows_of,
    money,
    reseller_move,
    supply,
)
from reconciler.kinds.account_funds.plans import CustomerPlan, ResellerPlan
from reconciler.kinds.base import KindResult, customer_label, reseller_label
from reconciler.plan.model import Notice, fmt_money

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.errors import SourcePosition
    from reconciler.kinds.account_funds.desired import FundsEntry
    from reconciler.kinds.account_funds.live import FundsLive

KIND = make.KIND
YUAN = 1


def diff(items: Sequence[FundsEntry], live: FundsLive) -> KindResult:
    """Changes, notices and problems; see the module docstring."""
    result = KindResult()
    seen: dict[str, SourcePosition] = {}
    customers = [p for e in items if not e.for_reseller for p in _customer(e, live, result, seen)]
    resellers = _resellers(items, live, customers, result, seen)
    _partner_supply(items, live, customers, resellers, result)
    currency = _currency(live)
    for c in customers:
        if c.move.fund or c.move.reclaim:
            result.changes.append(make.customer_change(c, live, currency))
    for r in resellers:
        if r.move.fund or r.move.reclaim:
            result.changes.append(make.reseller_change(r, currency))
        if r.move.stuck and r.entry is not None:
            result.notices.append(_stuck_notice(r))
    return result


def _currency(live: FundsLive) -> str:
    account = allocatable(live.accounts.get(None, ()))
    return (account.currency if account is not None else None) or "CNY"


# -- customers ------------------------------------------------------------------------------


def _customer(
    entry: FundsEntry, live: FundsLive, result: KindResult, seen: dict[str, SourcePosition]
) -> list[CustomerPlan]:
    assert entry.customer is not None
    reseller = live.reseller(entry.reseller)
    if entry.reseller is not None and reseller is None:
        return []  # the reader reported the unknown reseller
    owner = reseller.indirect_partner_id if reseller is not None else None
    customer = live.customer(entry.customer, owner)
    if customer is None:
        return []  # the reader reported the unknown customer
    cid = customer.customer_id
    label = customer_label(customer)
    if not result.first_declaration(seen, f"{KIND}/customer/{cid}", entry.source, label):
        return []
    result.in_scope += 1
    whose = "the partner" if reseller is None else f"reseller {reseller_label(reseller)}"
    balance = live.balances.get((owner, cid))
    if balance is None:
        result.problem(
            entry.customer.source,
            "",
            f"customer {label} is not a resale customer of {whose}: "
            "list_customers_balances_detail left it out, and only a resale customer's cash can "
            "be moved (REFERENCE §7.19); remove the entry"
            + ("" if reseller else ", or name the reseller whose customer it is"),
        )
        return []
    move = _customer_move(entry, balance, label, result)
    return [] if move is None else [CustomerPlan(entry, cid, owner, label, balance, move)]


def _customer_move(
    entry: FundsEntry, balance: CustomerBalance, label: str, result: KindResult
) -> CustomerMove | None:
    if balance.measure_id not in (None, YUAN):
        result.problem(
            entry.source,
            "",
            f"the cash of customer {label} is reported in measure_id {balance.measure_id}, "
            "not in yuan (1): the reconciler does not convert units",
        )
        return None
    try:
        return customer_move(money(balance.amount), money(balance.debt_amount), entry.bounds)
    except ValueError as err:
        result.problem(
            entry.source,
            "",
            f"the live cash of customer {label} is not understood "
            f"(amount {balance.amount}, debt_amount {balance.debt_amount}): {err}",
        )
        return None


# -- resellers ------------------------------------------------------------------------------


def _resellers(
    items: Sequence[FundsEntry],
    live: FundsLive,
    customers: Sequence[CustomerPlan],
    result: KindResult,
    seen: dict[str, SourcePosition],
) -> list[ResellerPlan]:
    declared: dict[str, FundsEntry] = {}
    for entry in items:
        reseller = live.reseller(entry.reseller) if entry.for_reseller else None
        if reseller is None:
            continue
        rid = reseller.indirect_partner_id
        if result.first_declaration(
            seen, f"{KIND}/reseller/{rid}", entry.source, reseller_label(reseller)
        ):
            declared[rid] = entry
            result.in_scope += 1
    owned: dict[str, list[CustomerPlan]] = {}
    for c in customers:
        if c.owner is not None:
            owned.setdefault(c.owner, []).append(c)
    plans = []
    for rid in sorted(declared.keys() | owned.keys()):
        plan = _reseller(rid, declared.get(rid), owned.get(rid, []), live, result)
        if plan is not None:
            plans.append(plan)
    return plans


def _reseller(
    rid: str,
    entry: FundsEntry | None,
    owned: list[CustomerPlan],
    live: FundsLive,
    result: KindResult,
) -> ResellerPlan | None:
    label = reseller_label(live.resellers[rid])
    source = entry.source if entry is not None else owned[0].entry.source
    account = _allocatable(live.accounts.get(rid), f"reseller {label}", source, result)
    if account is None:
        return None
    try:
        amount, designated = money(account.amount), money(account.designated)
        flows = flows_of(c.move for c in owned)
        move = reseller_move(amount, designated, flows, entry.bounds if entry else None)
    except ValueError as err:
        result.problem(source, "", f"the allocatable account of reseller {label}: {err}")
        return None
    plan = ResellerPlan(rid, label, account, move, source, entry, owned)
    if move.shortfall:
        _short(plan, result)
    return plan


def _allocatable(
    accounts: Sequence[AccountBalance] | None,
    whose: str,
    source: SourcePosition,
    result: KindResult,
) -> AccountBalance | None:
    found = [a for a in accounts or () if a.account_type == ALLOCATABLE]
    if len(found) == 1 and found[0].measure_id in (None, YUAN):
        return found[0]
    if len(found) == 1:
        why = f"is in measure_id {found[0].measure_id}, not in yuan (1)"
    else:
        why = f"appears {len(found)} times in list_partner_balances, not once"
    result.problem(
        source,
        "",
        f"the allocatable account (account_type 8) of {whose} {why}: cash cannot be moved "
        "through it safely",
    )
    return None


def _short(plan: ResellerPlan, result: KindResult) -> None:
    move = plan.move
    result.problem(
        plan.source,
        "",
        f"the customers of reseller {plan.label} need {fmt_money(move.flows.funded)} from its "
        f"allocatable account, which after this run's other transfers would hold "
        f"{fmt_money(move.final)}, of which {fmt_money(move.designated)} is designated "
        f"(ring-fenced) and cannot move: short by {fmt_money(move.shortfall)}. Lower those "
        "customers' topUpTo, give the reseller a higher topUpTo, or fund it first",
    )


def _stuck_notice(plan: ResellerPlan) -> Notice:
    assert plan.entry is not None
    move = plan.move
    return Notice(
        KIND,
        f"{KIND}/reseller/{plan.reseller_id}",
        "not-applicable",
        plan.label,
        f"{fmt_money(move.stuck)} above atMost {fmt_money(move.target or ZERO)} cannot be "
        f"reclaimed: {fmt_money(move.designated)} of the reseller's allocatable account is "
        "designated (ring-fenced), and only the rest can move (REFERENCE §7.22, §7.23)",
        plan.entry.cap_source or plan.entry.source,
    )


# -- the partner ----------------------------------------------------------------------------


def _partner_supply(
    items: Sequence[FundsEntry],
    live: FundsLive,
    customers: Sequence[CustomerPlan],
    resellers: Sequence[ResellerPlan],
    result: KindResult,
) -> None:
    own = [c.move for c in customers if c.owner is None]
    moving = [r.move for r in resellers if r.move.fund or r.move.reclaim]
    if not moving and not any(m.fund or m.reclaim for m in own):
        return
    source = _first_draw(items, customers, resellers)
    account = _allocatable(live.accounts.get(None), "the partner", source, result)
    if account is None:
        return
    try:
        transferable = money(account.amount) - money(account.designated)
    except ValueError as err:
        result.problem(source, "", f"the partner's allocatable account: {err}")
        return
    found = supply(transferable, own, moving)
    if found.shortfall:
        result.problem(
            source,
            "",
            f"this run transfers {fmt_money(found.outflow)} out of the partner's allocatable "
            f"account, which can give {fmt_money(transferable)} (amount "
            f"{fmt_money(account.amount)} less designated {fmt_money(account.designated)}) plus "
            f"the {fmt_money(found.inflow)} this run reclaims into it: short by "
            f"{fmt_money(found.shortfall)}. Lower the targets or top up the account",
        )


def _first_draw(
    items: Sequence[FundsEntry],
    customers: Sequence[CustomerPlan],
    resellers: Sequence[ResellerPlan],
) -> SourcePosition:
    """Where a partner-level problem points: the first entry that moves partner money."""
    sources: list[SourcePosition] = [c.entry.source for c in customers if c.owner is None]
    sources += [r.source for r in resellers if r.move.fund or r.move.reclaim]
    return min(sources, default=items[0].source)
