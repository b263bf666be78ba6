"""The money guards of CustomerCoupons (Settings ``spec.guards``), named like the quota guards
(``maxIssuePerRun``, ``maxIssuePerReseller``, ``maxReclaimsPerRun``):

* ``maxCouponIssuePerRun`` / ``--allow max-coupon-issue-per-run``: the face value of every
  coupon the run issues, together;
* ``maxCouponIssuePerCustomer`` / ``--allow max-coupon-issue-per-customer``: the face value
  issued to any one customer;
* ``maxCouponReclaimsPerRun`` / ``--allow max-coupon-reclaims-per-run``: the number of coupons
  the run reclaims (each takes a whole balance back; what was spent never comes back).

Each counts this kind's changes only. A guard that trips blocks the plan (exit 3).
"""

from __future__ import annotations

from decimal import Decimal

from reconciler.kinds.customer_coupons.change import RECLAIM
from reconciler.kinds.spec import count_per_run, money_per_recipient, money_per_run
from reconciler.plan.model import Change

PER_RUN = money_per_run(
    "max-coupon-issue-per-run",
    "maxCouponIssuePerRun",
    Decimal("50000.00"),
    title="Most coupon value per run",
    description='Most face value of customer coupons one run may issue, e.g. "50000.00".',
    detail="in customer coupons issued by this run",
)
PER_CUSTOMER = money_per_recipient(
    "max-coupon-issue-per-customer",
    "maxCouponIssuePerCustomer",
    Decimal("10000.00"),
    title="Most coupon value per customer",
    description='Most face value of coupons one run may issue to one customer, e.g. "10000.00".',
    noun="customer",
    recipient=lambda change: change.key.rsplit("/", 1)[-1],
)


def reclaims(change: Change) -> int:
    return sum(1 for call in change.calls if call.operation == RECLAIM.name)


RECLAIMS = count_per_run(
    "max-coupon-reclaims-per-run",
    "maxCouponReclaimsPerRun",
    10,
    title="Most coupons reclaimed per run",
    description="Most customer coupons one run may reclaim (each whole; spent value never "
    "comes back).",
    unit="coupon reclaims",
    count=reclaims,
)
GUARDS = (PER_RUN, PER_CUSTOMER, RECLAIMS)
