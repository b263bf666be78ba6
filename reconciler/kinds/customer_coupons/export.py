"""Export of customer coupons: one ``CustomerCoupons`` document with the coupons each resale
customer holds now (not activated or usable), so ``plan`` on the result shows no changes.

Read: the partner's coupon quotas, each resale customer's coupons and issue records in scope,
and for each reseller in scope its customers, quotas, coupons and records. Written: per coupon
its face value, its quota when it is not the document's ``spec.quota``, and its validity and
restrictions only where they differ from the quota's (absent means the quota's). Entries are
not written ``exclusive``: adopting an account asserts what customers hold, not that they hold
nothing else. Used, expired and reclaimed coupons are history and not written. A customer with
a coupon the manifests cannot describe (no issue record naming its quota, a restriction other
than service types and products that differs from the quota's) is left out with a warning:
absent means unmanaged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import reconciler.gitops.yamlout as y
from reconciler.kinds.customer_coupons.change import spent
from reconciler.kinds.customer_coupons.desired import PRODUCTS, SERVICE_TYPES
from reconciler.kinds.customer_coupons.live import CouponsLive
from reconciler.kinds.customer_coupons.match import NOT_ACTIVATED, USABLE
from reconciler.kinds.customer_coupons.reads import (
    COUPONS,
    ISSUE_RECORDS,
    PAGE,
    RESELLERS,
    ResellerCoupons,
    _reseller,
)
from reconciler.kinds.customer_coupons.settle import coupons_of, records_of
from reconciler.kinds.customer_coupons.spec import quota_limits
from reconciler.plan.model import fmt_money
from reconciler.plan.pools import pool_map, workers_for

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.bss.models import CouponQuota, Customer, IndirectPartner
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.customer_coupons.desired import CustomerCoupons

RESALE = "2"
KEYS = {SERVICE_TYPES: "cloudServiceTypes", PRODUCTS: "productIds"}
Keep = Callable[[Any], bool]


@dataclass
class Holding:
    """One customer's coupons, and whose customer it is."""

    customer: Customer
    reseller: IndirectPartner | None
    live: CouponsLive


@dataclass
class CouponExport:
    quotas: dict[str | None, dict[str, CouponQuota]] = field(default_factory=dict)
    holdings: list[Holding] = field(default_factory=list)


def of(account: ExportAccount, kind_id: str) -> CouponExport:
    found = account.data.get(kind_id)
    return found if isinstance(found, CouponExport) else CouponExport()


async def read(
    client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str
) -> None:
    data = account.data[kind_id] = CouponExport()
    resale = [c for c in account.customers if c.association_type == RESALE]
    for per_customer in (COUPONS, ISSUE_RECORDS):
        shown.expect(per_customer, len(resale))
    shown.expect(RESELLERS, len(account.resellers))
    data.quotas[None] = {q.quota_id: q async for q in client.iter_quota_coupons(page_size=PAGE)}

    async def own(customer: Customer) -> Holding:
        cid = customer.customer_id
        live = CouponsLive(now=0)
        live.coupons[cid] = await coupons_of(client, None, customer_id=cid)
        shown.done(COUPONS)
        for r in await records_of(client, None, customer_id=cid, operation_types=["1"]):
            if r.coupon_id:
                live.issue_records.setdefault(r.coupon_id, []).append(r)
        shown.done(ISSUE_RECORDS)
        return Holding(customer, None, live)

    async def theirs(reseller: IndirectPartner) -> tuple[IndirectPartner, ResellerCoupons]:
        bundle = await _reseller(client, reseller.indirect_partner_id)
        shown.done(RESELLERS)
        return reseller, bundle

    data.holdings = await pool_map(resale, own, workers_for(client.rate_for(COUPONS.api)))
    for reseller, bundle in await pool_map(
        account.resellers, theirs, workers_for(client.rate_for(RESELLERS.api))
    ):
        rid = reseller.indirect_partner_id
        data.quotas[rid] = {q.quota_id: q for q in bundle.quotas}
        data.holdings += _holdings(reseller, bundle)


def _holdings(reseller: IndirectPartner, bundle: ResellerCoupons) -> list[Holding]:
    out = []
    for customer in bundle.customers:
        if customer.association_type != RESALE:
            continue
        live = CouponsLive(now=0)
        live.coupons[customer.customer_id] = [
            c for c in bundle.coupons if c.customer_id == customer.customer_id
        ]
        for r in bundle.issue_records:
            if r.coupon_id and r.customer_id == customer.customer_id:
                live.issue_records.setdefault(r.coupon_id, []).append(r)
        out.append(Holding(customer, reseller, live))
    return out


def render(
    account: ExportAccount, data: CouponExport, schema_dir: str, keep: Keep
) -> tuple[str, str]:
    held = [(h, _coupons(h, data, account.warnings)) for h in _sorted(data.holdings) if keep(h)]
    held = [(h, rows) for h, rows in held if rows]
    default = _default_quota(rows for h, rows in held if h.reseller is None)
    unique = y.unique_names(h.customer.account_name for h in data.holdings)
    sellers = y.unique_names(h.reseller.account_name for h in data.holdings if h.reseller)
    lines = y.header(
        schema_dir,
        account,
        "The coupons each resale customer holds now (not activated or usable). Coupons are",
        "issued as declared; add exclusive: true to an entry to reclaim the coupons it does",
        "not list (their whole balance; what was spent never comes back).",
    )
    lines += [*y.envelope("CustomerCoupons", "customer-coupons"), "spec:"]
    if default:
        lines.append(f"  quota: {y.quoted(default)}")
    lines.append("  customers:" if held else "  customers: []")
    count = 0
    for holding, rows in held:
        ref, note = y.customer_ref(holding.customer, unique)
        pairs: y.Pairs = [(f"    - {ref}", note)]
        if holding.reseller is not None:
            pairs.append((f"      {y.reseller_ref(holding.reseller, sellers)[0]}", None))
        pairs.append(("      coupons:", None))
        for coupon, quota in rows:
            pairs += _coupon_lines(coupon, quota, default if holding.reseller is None else None)
            count += 1
        lines += y.lines(pairs)
    return y.text(lines), f"{len(held)} customers, {count} coupons"


def _sorted(holdings: Sequence[Holding]) -> list[Holding]:
    def key(h: Holding) -> tuple[str, str, str]:
        owner = h.reseller.indirect_partner_id if h.reseller else ""
        return (owner, h.customer.account_name or "", h.customer.customer_id)

    return sorted(holdings, key=key)


def _coupons(
    holding: Holding, data: CouponExport, warnings: list[str]
) -> list[tuple[PartnerCoupon, CouponQuota]]:
    """The customer's held coupons with their quotas, or none (and a warning) when one of them
    cannot be written so that the plan reads it back."""
    owner = holding.reseller.indirect_partner_id if holding.reseller else None
    quotas = data.quotas.get(owner, {})
    rows = []
    cid = holding.customer.customer_id
    for coupon in sorted(holding.live.coupons.get(cid, ()), key=lambda c: c.coupon_id):
        if coupon.status not in (NOT_ACTIVATED, USABLE):
            continue
        quota = quotas.get(holding.live.quota_of(coupon) or "")
        why = _unwritable(coupon, quota)
        if why:
            warnings.append(f"customer {cid}: coupon {coupon.coupon_id} {why}: not exported")
            return []
        assert quota is not None
        rows.append((coupon, quota))
    return rows


def _unwritable(coupon: PartnerCoupon, quota: CouponQuota | None) -> str | None:
    if quota is None:
        return "has no issue record naming one of the owner's quotas"
    inherited = quota_limits(quota)
    if inherited is None:
        return f"comes from quota {quota.quota_id}, whose restrictions the API did not list"
    mine = _limits(coupon)
    odd = {
        k
        for k in set(mine) | set(inherited)
        if mine.get(k) != inherited.get(k) and (k not in KEYS or not mine.get(k))
    }
    return f"has restrictions a manifest cannot state ({', '.join(sorted(odd))})" if odd else None


def _limits(coupon: PartnerCoupon) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for limit in coupon.use_limits:
        found.setdefault(limit.limit_key, set()).add(limit.value1)
    return {k: frozenset(v) for k, v in found.items()}


def _default_quota(rows: Any) -> str | None:
    counts = Counter(q.quota_id for coupons in rows for _, q in coupons)
    return max(counts, key=lambda k: (counts[k], k)) if counts else None


def _coupon_lines(coupon: PartnerCoupon, quota: CouponQuota, default: str | None) -> y.Pairs:
    note = (
        f"{coupon.coupon_id}: {fmt_money(coupon.balance)} left, {fmt_money(spent(coupon))} spent"
        + ("" if coupon.status == USABLE else f", valid from {coupon.effective_time}")
    )
    pairs: y.Pairs = [(f"        - faceValue: {y.quoted(fmt_money(coupon.face_value))}", note)]
    if quota.quota_id != default:
        pairs.append((f"          quota: {y.quoted(quota.quota_id)}", None))
    if coupon.effective_time != quota.effective_time:
        pairs.append((f"          validTime: {y.quoted(coupon.effective_time)}", None))
    if coupon.expire_time != quota.expire_time:
        pairs.append((f"          expireTime: {y.quoted(coupon.expire_time)}", None))
    inherited, mine = quota_limits(quota) or {}, _limits(coupon)
    for key, name in KEYS.items():
        if mine.get(key, frozenset()) != inherited.get(key, frozenset()):
            values = ", ".join(y.scalar(v) for v in sorted(mine.get(key, ())))
            pairs.append((f"          {name}: [{values}]", None))
    return pairs


def undeclared(entries: Sequence[CustomerCoupons]) -> Keep:
    """The holdings of customers none of ``entries`` declares (by ID or account name)."""
    ids = {e.customer.customer_id for e in entries if e.customer.customer_id}
    names = {e.customer.account_name for e in entries if e.customer.account_name}

    def keep(holding: Any) -> bool:
        customer = holding.customer
        return customer.customer_id not in ids and customer.account_name not in names

    return keep
