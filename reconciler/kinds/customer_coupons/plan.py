"""The pure diff of CustomerCoupons: declared entries and live state in, changes, notices and
problems out. Nothing here reads or writes the API.

Per customer (see :mod:`.match` for which coupon is which): declared coupons not held are
issued, and for ``exclusive`` entries usable coupons not declared are reclaimed. Before any of
it is planned, every problem is reported at its ``file:line:col``:

* the customer is not a resale customer (``association_type`` "2"): it cannot hold coupons;
* a quota that is not the owner's (the partner's, or for a reseller's customer the reseller's),
  with a "did you mean";
* for each coupon to issue: its quota is not valid (status 0) or not effective now, the coupon
  would already have expired, it asks for validity or restrictions outside the quota's;
* a quota's balance does not cover what the run issues from it, after the run's reclaims.

A customer whose coupons cannot be told apart (a coupon with no single issue record naming its
quota, an unknown status, a time the plan cannot read) is not planned at all: a "cannot be
reached" notice says why. Never a guess where money moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.base import KindResult, customer_label
from reconciler.kinds.customer_coupons.change import KIND, build_change, change_key, subject
from reconciler.kinds.customer_coupons.desired import parse_time
from reconciler.kinds.customer_coupons.match import (
    NOT_ACTIVATED,
    RECLAIMED,
    STATUS_NAMES,
    Held,
    Wanted,
    match,
)
from reconciler.kinds.customer_coupons.spec import expected, observed, outside_quota
from reconciler.plan.model import ZERO, Notice, fmt_money

if TYPE_CHECKING:
    from reconciler.bss.models import CouponQuota
    from reconciler.errors import SourcePosition
    from reconciler.kinds.customer_coupons.desired import CustomerCoupons, DeclaredCoupon
    from reconciler.kinds.customer_coupons.live import CouponsLive, Holder

RESALE = "2"
VALID = 0
QUOTA_STATUS = {0: "valid", 3: "invalid", 4: "being adjusted", 5: "frozen"}
Owned = tuple[str | None, str]  # (owner, quota id)


@dataclass
class Ledger:
    """The net draw of the run on each quota: issued minus what reclaims give back."""

    net: dict[Owned, Decimal] = field(default_factory=dict)
    first: dict[Owned, SourcePosition] = field(default_factory=dict)

    def issue(self, owner: str | None, coupon: DeclaredCoupon) -> None:
        key = (owner, coupon.quota_id)
        self.net[key] = self.net.get(key, ZERO) + coupon.face_value
        self.first.setdefault(key, coupon.quota_source)

    def reclaim(self, owner: str | None, held: Held) -> None:
        key = (owner, held.spec.quota_id)
        self.net[key] = self.net.get(key, ZERO) - held.coupon.balance

    def check(self, live: CouponsLive, result: KindResult) -> None:
        for key, where in sorted(self.first.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            need, quota = self.net[key], live.quotas[key]
            balance = quota.balance if quota.balance is not None else ZERO
            if need > balance:
                result.problem(
                    where,
                    "quota",
                    f"the coupons to issue need {fmt_money(need)} from quota {quota.quota_id}, "
                    f"which holds {fmt_money(balance)} (after this run's reclaims); lower them by "
                    f"{fmt_money(need - balance)} or top up the quota",
                )


def diff(entries: Sequence[CustomerCoupons], live: CouponsLive) -> KindResult:
    result = KindResult()
    ledger = Ledger()
    seen: dict[str, SourcePosition] = {}
    for entry in entries:
        holder = live.holders.get(entry.source)
        if holder is None:
            continue  # the reader reported the unresolved reference at its line
        customer = holder.customer
        label = f"customer {customer_label(customer)} in CustomerCoupons"
        if not result.first_declaration(seen, customer.customer_id, entry.customer.source, label):
            continue
        if customer.association_type != RESALE:
            result.problem(
                entry.customer.source,
                "",
                f"{label} is not a resale customer (association_type "
                f'{customer.association_type!r}): only resale customers ("2") can hold partner '
                "coupons; remove the entry",
            )
            continue
        result.in_scope += 1
        _plan_customer(entry, holder, live, result, ledger)
    ledger.check(live, result)
    return result


def _plan_customer(
    entry: CustomerCoupons, holder: Holder, live: CouponsLive, result: KindResult, ledger: Ledger
) -> None:
    wanted = _wanted(entry, holder.owner, live, result)
    held = _held(entry, holder, live, result)
    if wanted is None or held is None:
        return
    m = match(wanted, held, exclusive=entry.exclusive)
    issuable = [_issuable(w, holder.owner, live, result) for w in m.issue]  # report them all
    if not all(issuable):
        return
    key, who = change_key(holder.customer.customer_id), subject(holder)
    for h in m.waiting:
        result.notices.append(Notice(KIND, key, "not-applicable", who, _waiting(h), entry.source))
    if m.undeclared and m.issue:
        result.notices.append(Notice(KIND, key, "warning", who, _kept(m.undeclared), entry.source))
    if not m.issue and not m.reclaim:
        return
    for w in m.issue:
        ledger.issue(holder.owner, w.coupon)
    for h in m.reclaim:
        ledger.reclaim(holder.owner, h)
    currency = next(
        (q.currency for w in m.issue if (q := live.quotas.get((holder.owner, w.spec.quota_id)))
         and q.currency),
        "CNY",
    )  # fmt: skip
    result.changes.append(build_change(entry, holder, m, held, currency))


def _wanted(
    entry: CustomerCoupons, owner: str | None, live: CouponsLive, result: KindResult
) -> list[Wanted] | None:
    wanted, ok = [], True
    for coupon in entry.coupons:
        quota = live.quotas.get((owner, coupon.quota_id))
        if quota is None:
            whose = f"reseller {owner}'s" if owner else "your"
            hint = did_you_mean(coupon.quota_id, live.quota_ids.get(owner, ()))
            result.problem(
                coupon.quota_source,
                "quota",
                f"{coupon.quota_id!r} is not one of {whose} coupon quotas{hint}",
            )
            ok = False
            continue
        spec = expected(coupon, quota)
        if isinstance(spec, str):
            result.problem(coupon.source, "", spec)
            ok = False
            continue
        wanted.append(Wanted(spec, coupon))
    return wanted if ok else None


def _held(
    entry: CustomerCoupons, holder: Holder, live: CouponsLive, result: KindResult
) -> list[Held] | None:
    """The customer's coupons with their specs, or ``None`` (and a notice) when one of them
    cannot be told apart from a declared coupon."""
    held, why = [], []
    for coupon in live.coupons.get(holder.customer.customer_id, ()):
        if coupon.status == RECLAIMED:
            continue
        if coupon.status not in STATUS_NAMES:
            why.append(f"coupon {coupon.coupon_id} has status {coupon.status}, which is unknown")
            continue
        quota_id = live.quota_of(coupon)
        if quota_id is None:
            why.append(
                f"coupon {coupon.coupon_id} has no single successful issue record naming its "
                "quota (list_partner_coupons_record), so it cannot be matched to a declaration"
            )
            continue
        spec = observed(coupon, quota_id)
        if isinstance(spec, str):
            why.append(spec)
            continue
        held.append(Held(coupon, spec))
    if not why:
        return held
    result.notices.append(
        Notice(
            KIND,
            change_key(holder.customer.customer_id),
            "not-applicable",
            subject(holder),
            "its coupons cannot be planned: " + "; ".join(why) + ". Nothing is issued or "
            "reclaimed for this customer until the API shows them completely",
            entry.source,
        )
    )
    return None


def _issuable(want: Wanted, owner: str | None, live: CouponsLive, result: KindResult) -> bool:
    """Report (at the manifest) each reason the API would refuse to issue ``want``."""
    d, spec = want.coupon, want.spec
    quota = live.quotas[(owner, d.quota_id)]
    problems = [("quota", why, d.quota_source) for why in _quota_unusable(quota, live.now)]
    if spec.expire <= live.now:
        problems.append(("", "the coupon would already have expired (expireTime "
                             f"{d.expire_time or quota.expire_time}): it cannot be issued; "
                             "remove it or move expireTime", d.source))  # fmt: skip
    elif spec.effective is not None and spec.effective >= spec.expire:
        problems.append(("validTime", "the coupon would not start before it expires", d.source))
    problems += [(name, why, d.source) for name, why in outside_quota(d, quota)]
    for path, why, where in problems:
        result.problem(where, path, why)
    return not problems


def _quota_unusable(quota: CouponQuota, now: int) -> list[str]:
    if quota.quota_status != VALID:
        status = QUOTA_STATUS.get(quota.quota_status or -1, str(quota.quota_status))
        return [f"quota {quota.quota_id} is {status}: nothing can be issued from it"]
    start, end = parse_time(quota.effective_time), parse_time(quota.expire_time)
    if (start is not None and start > now) or (end is not None and end <= now):
        return [
            f"quota {quota.quota_id} is not effective now (valid {quota.effective_time} to "
            f"{quota.expire_time}): nothing can be issued from it"
        ]
    return []


def _waiting(held: Held) -> str:
    c = held.coupon
    return (
        f"coupon {c.coupon_id} ({fmt_money(c.face_value)}) is not declared, but it is not "
        f"activated yet ({STATUS_NAMES[NOT_ACTIVATED]} until {c.effective_time}) and only "
        "usable coupons can be reclaimed: plan again once it is usable"
    )


def _kept(undeclared: Sequence[Held]) -> str:
    ids = ", ".join(f"{h.coupon.coupon_id} ({fmt_money(h.coupon.face_value)})" for h in undeclared)
    return (
        f"keeps coupons this entry does not declare ({ids}): the entry is not exclusive, so they "
        "are left alone. If one of them is the coupon a changed entry replaces, add "
        "exclusive: true to reclaim it"
    )
