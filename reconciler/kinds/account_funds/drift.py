"""AccountFunds in drift reports: for a cap apply cannot reach (designated cash above it), the
cap and the reseller's allocatable account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.bss.cash import allocatable
from reconciler.kinds.account_funds.changes import reseller_key
from reconciler.kinds.account_funds.reads import funds_live
from reconciler.kinds.base import KindResult
from reconciler.kinds.spec import DriftView
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.kinds.account_funds.desired import FundsEntry
    from reconciler.kinds.base import LiveState
    from reconciler.plan.model import Notice


class FundsDrift(DriftView):
    """Both sides of each declared reseller, by change key."""

    def __init__(self, entries: Sequence[FundsEntry], live: LiveState) -> None:
        funds = funds_live(entries, live, KindResult())
        self.sides: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for entry in entries:
            reseller = funds.reseller(entry.reseller) if entry.for_reseller else None
            if reseller is None:
                continue
            rid = reseller.indirect_partner_id
            account = allocatable(funds.accounts.get(rid, ()))
            cap = entry.bounds.cap
            desired = {"atMost": fmt_money(cap)} if cap is not None else {}
            live_side: dict[str, Any] = {}
            if account is not None:
                live_side = {
                    "balance": fmt_money(account.amount),
                    "designated_amount": fmt_money(account.designated),
                }
            self.sides[reseller_key(rid)] = (desired, live_side)

    def notice_sides(self, notice: Notice) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        return self.sides.get(notice.key, ({}, {}))
