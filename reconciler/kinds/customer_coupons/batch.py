"""Issue calls for many customers: one call per coupon spec, up to 100 customers a call.

``create_partner_coupons`` creates one coupon per listed customer, all with the same quota, face
value, validity, restrictions, memo and reseller. Customers that get the same coupon share a
call (up to :data:`~reconciler.bss.coupons.MAX_ISSUE_CUSTOMERS`); a customer that gets two
identical coupons appears in two calls, never twice in one (the emulator refuses duplicates,
and a duplicate would be one customer with an unknown number of coupons).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.bss.coupons import MAX_ISSUE_CUSTOMERS

if TYPE_CHECKING:
    from reconciler.kinds.customer_coupons.spec import CouponSpec


@dataclass(frozen=True)
class IssueUnit:
    """One coupon for one customer: the planned call's body (``customer_ids`` of one)."""

    change_key: str
    customer_id: str
    body: Mapping[str, Any]
    #: the coupon the body asks for (the same for the same body: settlement looks for it)
    spec: CouponSpec | None = field(default=None, compare=False)

    def template(self) -> str:
        """The body without the customer: units with the same template share a call."""
        rest = {k: v for k, v in self.body.items() if k != "customer_ids"}
        return json.dumps(rest, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class IssueBatch:
    """One ``create_partner_coupons`` call: the shared body and its customers, all distinct."""

    template: Mapping[str, Any]
    units: tuple[IssueUnit, ...]

    @property
    def customer_ids(self) -> list[str]:
        return [u.customer_id for u in self.units]

    def body(self) -> dict[str, Any]:
        out = dict(self.template)
        out["customer_ids"] = self.customer_ids
        order = ("quota_id", "customer_ids")
        return {**{k: out[k] for k in order}, **{k: v for k, v in out.items() if k not in order}}


def batches(units: Iterable[IssueUnit], limit: int = MAX_ISSUE_CUSTOMERS) -> list[IssueBatch]:
    """Group ``units`` into calls: by template (sorted), then in rounds of distinct customers
    (the order the units came in), at most ``limit`` customers a call."""
    groups: dict[str, list[IssueUnit]] = {}
    for unit in units:
        groups.setdefault(unit.template(), []).append(unit)
    out: list[IssueBatch] = []
    for key in sorted(groups):
        out.extend(_rounds(json.loads(key), groups[key], limit))
    return out


def _rounds(
    template: Mapping[str, Any], units: Sequence[IssueUnit], limit: int
) -> list[IssueBatch]:
    pending = list(units)
    out = []
    while pending:
        taken: list[IssueUnit] = []
        seen: set[str] = set()
        rest: list[IssueUnit] = []
        for unit in pending:
            if unit.customer_id in seen or len(taken) == limit:
                rest.append(unit)
                continue
            seen.add(unit.customer_id)
            taken.append(unit)
        out.append(IssueBatch(template, tuple(taken)))
        pending = rest
    return out
