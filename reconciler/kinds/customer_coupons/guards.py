"""The money guards of CustomerCoupons (Settings ``spec.guards``), named like the quota guards:

* ``maxCouponIssuePerRun`` / ``max-coupon-issue-per-run``: the face value of every coupon the
  run issues, together;
* ``maxCouponIssuePerCustomer`` / ``max-coupon-issue-per-customer``: the face value issued to
  any one customer;
* ``maxCouponReclaimsPerRun`` / ``max-coupon-reclaims-per-run``: the number of coupons the run
  reclaims (each takes a whole balance back; what was spent never comes back).

A guard that trips blocks the plan (exit 3) unless its name is passed with ``--allow NAME``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconciler.kinds.customer_coupons.change import KIND, RECLAIM
from reconciler.manifests.desired import CENT
from reconciler.plan.model import ZERO, Change, GuardResult, fmt_money

PER_RUN, PER_CUSTOMER, RECLAIMS = (
    "max-coupon-issue-per-run",
    "max-coupon-issue-per-customer",
    "max-coupon-reclaims-per-run",
)
NAMES = (PER_CUSTOMER, PER_RUN, RECLAIMS)
#: Settings ``spec.guards`` keys, each with its guard.
KEYS = {
    "maxCouponIssuePerRun": PER_RUN,
    "maxCouponIssuePerCustomer": PER_CUSTOMER,
    "maxCouponReclaimsPerRun": RECLAIMS,
}


@dataclass(frozen=True)
class CouponGuards:
    """The limits; the defaults apply when Settings does not set them."""

    max_issue_per_run: Decimal = Decimal("50000.00")
    max_issue_per_customer: Decimal = Decimal("10000.00")
    max_reclaims_per_run: int = 10

    @classmethod
    def from_settings(cls, guards: Mapping[str, Any] | None) -> CouponGuards:
        """From Settings ``spec.guards`` as validated (money as two-decimal strings)."""
        given = guards or {}
        default = cls()
        per_run, per_customer = (
            given.get("maxCouponIssuePerRun"),
            given.get("maxCouponIssuePerCustomer"),
        )
        reclaims = given.get("maxCouponReclaimsPerRun")
        return cls(
            max_issue_per_run=_money(per_run, default.max_issue_per_run),
            max_issue_per_customer=_money(per_customer, default.max_issue_per_customer),
            max_reclaims_per_run=reclaims
            if isinstance(reclaims, int)
            else default.max_reclaims_per_run,
        )

    def canonical(self) -> dict[str, Any]:
        return {
            "maxCouponIssuePerRun": fmt_money(self.max_issue_per_run),
            "maxCouponIssuePerCustomer": fmt_money(self.max_issue_per_customer),
            "maxCouponReclaimsPerRun": self.max_reclaims_per_run,
        }


def _money(value: object, default: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT) if isinstance(value, str) else default


def evaluate(
    changes: Sequence[Change], guards: CouponGuards, allow: Collection[str]
) -> list[GuardResult]:
    """The three verdicts over this kind's changes (other kinds' changes are not counted)."""
    mine = [c for c in changes if c.kind == KIND and c.money is not None]
    issued = {c.key.rsplit("/", 1)[-1]: c.money.issue for c in mine if c.money is not None}
    total = sum(issued.values(), ZERO)
    top = max(issued.items(), key=lambda kv: (kv[1], kv[0]), default=("", ZERO))
    reclaims = sum(1 for c in mine for call in c.calls if call.operation == RECLAIM.name)
    limit = guards.max_reclaims_per_run
    return [
        _money_guard(
            PER_RUN, total, guards.max_issue_per_run, allow, "in coupons issued by this run"
        ),
        _money_guard(
            PER_CUSTOMER,
            top[1],
            guards.max_issue_per_customer,
            allow,
            f"in coupons to customer {top[0]}" if top[0] else "in coupons to any customer",
        ),
        GuardResult(
            RECLAIMS,
            f"{reclaims} coupon reclaims",
            f"{limit}",
            reclaims <= limit,
            RECLAIMS in allow,
        ),
    ]


def _money_guard(
    name: str, observed: Decimal, limit: Decimal, allow: Collection[str], detail: str
) -> GuardResult:
    return GuardResult(
        name, fmt_money(observed), fmt_money(limit), observed <= limit, name in allow, detail
    )
