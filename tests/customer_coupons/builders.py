"""Tiny builders for CustomerCoupons unit tests: live objects as the client parses them, declared
entries as a document builds them, and a simulator of what apply's calls do to live state (the
emulator's rules, REFERENCE §6/§7.13-7.14) for the property tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.bss.coupons import CouponLimit, CouponRecord, PartnerCoupon
from reconciler.bss.models import CouponQuota, Customer, QuotaLimit
from reconciler.errors import SourcePosition
from reconciler.kinds.customer_coupons.desired import (
    CustomerCoupons,
    DeclaredCoupon,
    build,
    parse_time,
)
from reconciler.kinds.customer_coupons.live import CouponsLive, Holder
from reconciler.manifests.desired import CustomerRef, ResellerRef
from reconciler.manifests.loader import load_paths
from reconciler.plan.model import Change

D = Decimal
NOW_TEXT = "2026-06-01T00:00:00Z"
NOW = parse_time(NOW_TEXT) or 0
START, END = "2026-01-01T00:00:00Z", "2027-12-31T15:59:59Z"
Q = "Q-1"
EC2 = "hws.service.type.ec2"
_lines = itertools.count(10)


def at(text: str) -> datetime:
    """A record's time as the client parses it."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def pos(line: int | None = None) -> SourcePosition:
    return SourcePosition("m.yaml", line if line is not None else next(_lines), 5)


def quota(
    quota_id: str = Q,
    balance: str = "10000.00",
    *,
    status: int = 0,
    effective: str | None = START,
    expire: str | None = END,
    limits: tuple[QuotaLimit, ...] | None = (),
) -> CouponQuota:
    return CouponQuota(
        quota_id, 0, D("100000.00"), D(balance), status, "CNY", effective, expire, limits
    )


def customer(cid: str = "c-1", association: str | None = "2") -> Customer:
    return Customer(cid, f"acct-{cid}", None, association, None, None, None, None)


def coupon(
    coupon_id: str,
    face: str,
    *,
    cid: str = "c-1",
    balance: str | None = None,
    status: int = 2,
    effective: str = START,
    expire: str = END,
    limits: Iterable[tuple[str, str]] = (),
    created: str = START,
) -> PartnerCoupon:
    return PartnerCoupon(
        coupon_id, cid, status, 1, D(face), D(balance if balance is not None else face),
        effective, expire, created, None, 1,
        tuple(CouponLimit(k, v, "") for k, v in limits),
    )  # fmt: skip


def issue_record(c: PartnerCoupon, quota_id: str = Q, *, rid: str | None = None) -> CouponRecord:
    return CouponRecord(
        rid or f"r-{c.coupon_id}", "1", quota_id, 0, c.coupon_id, c.customer_id, c.face_value,
        at(c.create_time or START), "0", None,
    )  # fmt: skip


def declared(
    face: str,
    *,
    quota_id: str = Q,
    valid: str | None = None,
    expire: str | None = None,
    services: tuple[str, ...] | None = None,
    products: tuple[str, ...] | None = None,
    memo: str | None = None,
) -> DeclaredCoupon:
    where = pos()
    return DeclaredCoupon(D(face), quota_id, valid, expire, services, products, memo, where, where)


def entry(
    cid: str = "c-1",
    *coupons: DeclaredCoupon,
    exclusive: bool = False,
    reseller: str | None = None,
    by_name: bool = False,
) -> CustomerCoupons:
    where = pos()
    ref = CustomerRef(None, f"acct-{cid}", where) if by_name else CustomerRef(cid, None, where)
    seller = ResellerRef(reseller, None, where) if reseller else None
    return CustomerCoupons(ref, seller, exclusive, tuple(coupons), where)


def live_for(
    entries: Sequence[CustomerCoupons],
    coupons: Iterable[PartnerCoupon] = (),
    *,
    quotas: Iterable[CouponQuota] = (),
    customers: Iterable[Customer] = (),
    records: Iterable[CouponRecord] | None = None,
    owner: str | None = None,
    now: int = NOW,
) -> CouponsLive:
    """Every entry resolved to the customer of its id (``customers`` overrides)."""
    given = {c.customer_id: c for c in customers}
    coupons = list(coupons)
    quotas = list(quotas) or [quota()]
    live = CouponsLive(now=now)
    for e in entries:
        cid = e.customer.customer_id or str(e.customer.account_name).removeprefix("acct-")
        live.holders[e.source] = Holder(given.get(cid) or customer(cid), owner)
    for q in quotas:
        live.quotas[(owner, q.quota_id)] = q
        live.quota_ids.setdefault(owner, set()).add(q.quota_id)
    for c in coupons:
        live.coupons.setdefault(c.customer_id, []).append(c)
    for r in records if records is not None else (issue_record(c) for c in coupons):
        if r.coupon_id:
            live.issue_records.setdefault(r.coupon_id, []).append(r)
    return live


def from_yaml(tmp_path: Path, text: str) -> list[CustomerCoupons]:
    path = tmp_path / "coupons.yaml"
    path.write_text(text, encoding="utf-8")
    return [e for doc in load_paths([path]) for e in build(doc)]


# -- what apply's calls do to live state --------------------------------------------------------


@dataclass
class Simulated:
    live: CouponsLive
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def run(self, changes: Sequence[Change]) -> None:
        for change in changes:
            for call in change.calls:
                body = dict(call.body or {})
                if call.operation == "reclaim_partner_coupons":
                    self._reclaim(body["coupon_id"])
                else:
                    self._issue(body)

    def _coupons(self) -> list[PartnerCoupon]:
        return [c for cs in self.live.coupons.values() for c in cs]

    def _replace(self, old: PartnerCoupon, new: PartnerCoupon) -> None:
        held = self.live.coupons[old.customer_id]
        held[held.index(old)] = new

    def _quota(self, quota_id: str) -> tuple[tuple[str | None, str], CouponQuota]:
        ((key, found),) = [(k, q) for k, q in self.live.quotas.items() if k[1] == quota_id]
        return key, found

    def _reclaim(self, coupon_id: str) -> None:
        (c,) = [c for c in self._coupons() if c.coupon_id == coupon_id]
        assert c.status == 2, "only usable coupons can be reclaimed"
        key, q = self._quota(self.live.quota_of(c) or "")
        self.live.quotas[key] = replace(q, balance=(q.balance or D(0)) + c.balance)
        self._replace(c, replace(c, status=5, balance=D("0.00")))

    def _issue(self, body: dict[str, Any]) -> None:
        key, q = self._quota(body["quota_id"])
        face = D(body["face_value"])
        assert (q.balance or D(0)) >= face, "insufficient quota"
        self.live.quotas[key] = replace(q, balance=(q.balance or D(0)) - face)
        limits = {i.limit_key: i.values for i in q.limit_infos or ()}
        for name in ("cloud_service_types", "product_ids"):
            if name in body:
                limits[name] = tuple(body[name])
        start = body.get("valid_time") or q.effective_time or NOW_TEXT
        for cid in body["customer_ids"]:
            new = coupon(
                f"new-{next(self.serial)}", body["face_value"], cid=cid, effective=start,
                expire=body.get("expire_time") or q.expire_time or END,
                status=2 if (parse_time(start) or 0) <= self.live.now else 1,
                limits=[(k, v) for k, vs in limits.items() for v in vs], created=NOW_TEXT,
            )  # fmt: skip
            self.live.coupons.setdefault(cid, []).append(new)
            self.live.issue_records[new.coupon_id] = [issue_record(new, body["quota_id"])]

    def total_value(self) -> Decimal:
        """What the quotas and the coupons hold together (nothing is spent in a simulation)."""
        held = sum((c.balance for c in self._coupons()), D("0.00"))
        return held + sum((q.balance or D(0) for q in self.live.quotas.values()), D("0.00"))
