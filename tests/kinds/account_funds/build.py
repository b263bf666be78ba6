"""Tiny builders for the pure AccountFunds tests: entries, live state, plans."""

from __future__ import annotations

from decimal import Decimal

from reconciler.bss.cash import AccountBalance, CustomerBalance
from reconciler.bss.models import Customer, IndirectPartner
from reconciler.errors import SourcePosition
from reconciler.kinds.account_funds.desired import FundsEntry
from reconciler.kinds.account_funds.live import FundsLive
from reconciler.kinds.account_funds.money import Bounds
from reconciler.manifests.desired import CustomerRef, ResellerRef

D = Decimal
_line = iter(range(1, 1_000_000))


def at() -> SourcePosition:
    return SourcePosition("funds.yaml", next(_line), 7)


def bounds(floor: str | None = None, cap: str | None = None) -> Bounds:
    return Bounds(D(floor) if floor else None, D(cap) if cap else None)


def customer(cid: str, floor: str | None = None, cap: str | None = None,
             reseller: str | None = None) -> FundsEntry:  # fmt: skip
    owner = ResellerRef(reseller, None, at()) if reseller else None
    return FundsEntry(CustomerRef(cid, None, at()), owner, bounds(floor, cap), at(), at(), at())


def reseller(rid: str, floor: str | None = None, cap: str | None = None) -> FundsEntry:
    return FundsEntry(None, ResellerRef(rid, None, at()), bounds(floor, cap), at(), at(), at())


def account(amount: str, designated: str | None = None, kind: int = 8,
            measure: int | None = 1) -> AccountBalance:  # fmt: skip
    return AccountBalance(
        f"acct-{kind}", kind, D(amount), "CNY", D(designated) if designated else None, None,
        measure, None,
    )  # fmt: skip


class Live:
    """A FundsLive built up fluently: ``Live(partner="1000.00").customer("c1", "5.00")``."""

    def __init__(self, partner: str | None = "100000.00", designated: str | None = None) -> None:
        self.live = FundsLive()
        if partner is not None:
            self.live.accounts[None] = (account("52000.00", kind=1), account(partner, designated))

    def reseller(self, rid: str, amount: str | None = "0.00",
                 designated: str | None = None) -> Live:  # fmt: skip
        self.live.resellers[rid] = IndirectPartner(rid, f"name-{rid}", None, None, None, None,
                                                   None, None)  # fmt: skip
        self.live.reseller_refs[(rid, None)] = rid
        if amount is not None:
            self.live.accounts[rid] = (account(amount, designated),)
        return self

    def customer(self, cid: str, amount: str | None = "0.00", debt: str = "0.00",
                 owner: str | None = None, measure: int | None = 1) -> Live:  # fmt: skip
        self.live.customers[cid] = Customer(cid, f"name-{cid}", None, "2", None, None, None, None)
        self.live.customer_refs[(owner, cid, None)] = cid
        if amount is not None:
            self.live.balances[(owner, cid)] = CustomerBalance(cid, D(amount), D(debt), "CNY",
                                                               measure)  # fmt: skip
        return self
