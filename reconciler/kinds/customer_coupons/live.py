"""What the plan of CustomerCoupons reads, and how a coupon's quota is found.

Reads (all paced per API by the shared reader):

* each declared customer, resolved in the partner's customer list, or in its reseller's
  (``list_sub_customers`` with ``indirect_partner_id``) when the entry names a reseller;
* the coupon quotas of each owner an entry uses (``list_quota_coupons``, with
  ``indirect_partner_id`` for a reseller's): status, balance, validity and restrictions;
* every coupon of each declared customer (``list_issued_partner_coupons`` by ``customer_id``),
  all statuses: used and expired ones still count for the declarations they fulfilled;
* the issue record (``list_partner_coupons_record``, ``operation_types=1``, by ``coupon_ids``, 100
  a call) of each coupon that is not reclaimed: the list does not name a coupon's quota, its
  issue record does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.kinds.customer_coupons.match import RECLAIMED

if TYPE_CHECKING:
    from reconciler.bss.coupons import CouponRecord, PartnerCoupon
    from reconciler.bss.models import CouponQuota, Customer
    from reconciler.errors import SourcePosition

ISSUE_RECORD = "1"


@dataclass(frozen=True)
class Holder:
    """The live customer an entry names, and whose customer it is (``owner``: the reseller id,
    ``None`` for the partner's own)."""

    customer: Customer
    owner: str | None = None
    owner_label: str | None = None  # ``name (id)`` of the reseller, for messages


@dataclass
class CouponsLive:
    """Everything the plan of this kind rests on. ``now``: the API's clock, in epoch seconds."""

    now: int
    #: entry source -> the customer it resolved to (entries that did not resolve are absent:
    #: the reader reports them at their line)
    holders: dict[SourcePosition, Holder] = field(default_factory=dict)
    #: (owner, quota id) -> the quota
    quotas: dict[tuple[str | None, str], CouponQuota] = field(default_factory=dict)
    #: owner -> every quota id it holds (for "did you mean")
    quota_ids: dict[str | None, set[str]] = field(default_factory=dict)
    #: customer id -> every coupon listed for it
    coupons: dict[str, list[PartnerCoupon]] = field(default_factory=dict)
    #: coupon id -> its issue records
    issue_records: dict[str, list[CouponRecord]] = field(default_factory=dict)

    def quota_of(self, coupon: PartnerCoupon) -> str | None:
        """The quota ``coupon`` was cut from: the one successful issue record naming it for its
        customer. ``None`` when there is none, or the records disagree."""
        records = [
            r
            for r in self.issue_records.get(coupon.coupon_id, ())
            if r.operation_type == ISSUE_RECORD and r.result == "0"
        ]
        quotas = {r.quota_id for r in records}
        if len(quotas) != 1 or any(r.customer_id != coupon.customer_id for r in records):
            return None
        return quotas.pop()


def needs_record(coupon: PartnerCoupon) -> bool:
    """Whether the plan must know ``coupon``'s quota (everything but reclaimed coupons)."""
    return coupon.status != RECLAIMED
