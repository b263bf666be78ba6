"""Reseller quota in drift reports: for a balance apply cannot reach now (a quota being
adjusted), the target and the live balance with the reseller's valid quotas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.kinds.reseller_quota.diff import KIND, live_balance
from reconciler.kinds.reseller_quota.reads import issued_to
from reconciler.kinds.spec import DriftView
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.kinds.base import LiveState
    from reconciler.kinds.reseller_quota.desired import QuotaTarget
    from reconciler.plan.model import Notice


class QuotaDrift(DriftView):
    """The target of each resolved (distributor quota, reseller) pair, by change key."""

    def __init__(self, entries: Sequence[QuotaTarget], live: LiveState) -> None:
        self.live = live
        self.targets: dict[str, Decimal] = {}
        for target in entries:
            reseller = live.reseller(target.reseller)
            if reseller is not None:
                parent, rid = target.distributor_quota_id, reseller.indirect_partner_id
                self.targets[f"{KIND}/{parent}/{rid}"] = target.balance

    def notice_sides(self, notice: Notice) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        if notice.key not in self.targets:
            return {}, {}
        _, parent_id, reseller_id = notice.key.split("/", 2)
        children = [q for q in issued_to(self.live, reseller_id) if q.parent_quota_id == parent_id]
        live = {
            "balance": fmt_money(live_balance(children)),
            "quotas": sorted(q.quota_id for q in children if not q.reclaimed),
        }
        return {"balance": fmt_money(self.targets[notice.key])}, live
