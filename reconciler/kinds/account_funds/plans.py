"""A planned transfer of kind ``AccountFunds`` on its way from the diff to a change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.bss.cash import AccountBalance, CustomerBalance
    from reconciler.errors import SourcePosition
    from reconciler.kinds.account_funds.desired import FundsEntry
    from reconciler.kinds.account_funds.money import CustomerMove, ResellerMove


@dataclass
class CustomerPlan:
    entry: FundsEntry
    customer_id: str
    owner: str | None  # the reseller whose customer it is
    label: str
    balance: CustomerBalance
    move: CustomerMove


@dataclass
class ResellerPlan:
    reseller_id: str
    label: str
    account: AccountBalance
    move: ResellerMove
    source: SourcePosition  # the reseller's entry, else its first customer's
    entry: FundsEntry | None = None
    customers: list[CustomerPlan] = field(default_factory=list)
