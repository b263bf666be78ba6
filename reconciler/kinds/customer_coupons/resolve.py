"""From what the shared reader found (:class:`~reconciler.kinds.base.LiveState`) to what the diff
takes (:class:`.live.CouponsLive`): each entry's customer, the quotas of its owner, its coupons
and their issue records.

The partner's own customers were resolved by the shared reader (an unknown one is reported
there); a reseller's customer is looked up here, in the reseller's customer list, and an
unknown one is an error at its line with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.base import reseller_label
from reconciler.kinds.customer_coupons.live import CouponsLive, Holder
from reconciler.kinds.customer_coupons.reads import COUPONS, ISSUE_RECORDS, NOW, RESELLERS

if TYPE_CHECKING:
    from reconciler.bss.coupons import CouponRecord, PartnerCoupon
    from reconciler.bss.models import Customer
    from reconciler.kinds.base import KindResult, LiveState
    from reconciler.kinds.customer_coupons.desired import CustomerCoupons
    from reconciler.kinds.customer_coupons.reads import ResellerCoupons
    from reconciler.manifests.desired import CustomerRef


def coupons_live(
    entries: Sequence[CustomerCoupons], live: LiveState, result: KindResult
) -> CouponsLive:
    now = live.once(NOW)
    assert now is not None or not entries, "the API's clock was not read"
    out = CouponsLive(now=int(now or 0))
    out.quota_ids[None] = set(live.known_quota_ids) | set(live.distributor_quotas)
    for quota_id, quota in live.distributor_quotas.items():
        out.quotas[(None, quota_id)] = quota
    for entry in entries:
        if entry.reseller is None:
            _own(entry, live, out)
        else:
            _resellers(entry, live, out, result)
    return out


def _own(entry: CustomerCoupons, live: LiveState, out: CouponsLive) -> None:
    customer = live.customer(entry.customer)
    coupons = live.lists(COUPONS).get(customer.customer_id) if customer else None
    records = live.lists(ISSUE_RECORDS).get(customer.customer_id) if customer else None
    if customer is None or coupons is None or records is None:
        return  # unresolved (reported by the reader) or not read
    out.holders[entry.source] = Holder(customer)
    cid = customer.customer_id
    _add(out, cid, [c for c in coupons if c.customer_id == cid], records)


def _resellers(
    entry: CustomerCoupons, live: LiveState, out: CouponsLive, result: KindResult
) -> None:
    assert entry.reseller is not None
    reseller = live.reseller(entry.reseller)
    bundle = live.each(RESELLERS).get(reseller.indirect_partner_id) if reseller else None
    if reseller is None or bundle is None:
        return  # unresolved (reported by the reader) or not read
    rid = reseller.indirect_partner_id
    customer = _find(entry.customer, bundle)
    if customer is None:
        names = [c.account_name for c in bundle.customers if c.account_name]
        written = entry.customer.customer_id or entry.customer.account_name or ""
        hint = did_you_mean(written, names + [c.customer_id for c in bundle.customers])
        result.problem(
            entry.customer.source,
            "",
            f"{entry.customer.text} is not a customer of reseller {reseller_label(reseller)}{hint}",
        )
        return
    out.holders[entry.source] = Holder(customer, rid, reseller_label(reseller))
    for quota in bundle.quotas:
        out.quotas[(rid, quota.quota_id)] = quota
    out.quota_ids[rid] = {q.quota_id for q in bundle.quotas}
    cid = customer.customer_id
    _add(
        out,
        cid,
        [c for c in bundle.coupons if c.customer_id == cid],
        [r for r in bundle.issue_records if r.customer_id == cid],
    )


def _find(ref: CustomerRef, bundle: ResellerCoupons) -> Customer | None:
    for customer in bundle.customers:
        if ref.customer_id is not None and customer.customer_id == ref.customer_id:
            return customer
        if ref.account_name is not None and customer.account_name == ref.account_name:
            return customer
    return None


def _add(
    out: CouponsLive,
    customer_id: str,
    coupons: Sequence[PartnerCoupon],
    records: Sequence[CouponRecord],
) -> None:
    out.coupons[customer_id] = list(coupons)
    for record in records:
        if record.coupon_id:
            out.issue_records.setdefault(record.coupon_id, []).append(record)
