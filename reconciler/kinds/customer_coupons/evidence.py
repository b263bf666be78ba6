"""What the coupon records and the coupon list prove about one of our writes (pure functions).

``create_partner_coupons`` and ``reclaim_partner_coupons`` have no idempotency key, and the coupon
records (§7.16) name **no operator**: unlike a quota record, a coupon record cannot say *who*
made it. What can prove a record is ours is therefore what only our call could have produced:

**Issue** of face value F from quota Q to customer C, first send attempt at T (on the API's
clock, :func:`reconciler.apply.evidence.window_begin`). A record is a *candidate* when it is a
successful issue (type "1", result "0") for C, from Q, of exactly F, dated at or after T, no
other item of this journal has claimed it, and it names a coupon C did not hold when our intent
was recorded. The call is **committed** when there is exactly one candidate, its coupon is
listed for C now, and that coupon has exactly the spec we asked for (face value, validity,
restrictions), and it is the only new coupon of C with that spec. It is **absent** (not
committed, once nothing can still land) when there is no candidate and C holds no new coupon of
that spec. Anything else (two candidates, a record without its coupon, a new coupon without its
record) does not decide it: the customer is **frozen** until the evidence decides or a person
settles it. Failed records ("-1") prove nothing either way.

**Reclaim** of coupon X. A coupon is reclaimed once: the call is **committed** when X is now
reclaimed (status 5) and exactly one successful manual-reclaim record (type "2") of X is dated at
or after T and claimed by no other item; **not committed** when X was reclaimed by a record
dated before T, or by the system (unbinding, association changes: types 3, 7, 8); **absent**
when X is not reclaimed and no such record exists. A record without the status, or the status
without a record, does not decide it.

The limit that follows from the missing operator: a second writer that issues *exactly* the
same coupon to the same customer within the window, while our call never landed, leaves the
same single candidate ours would have. The check for other writers before every write (a
record on the customer this journal did not make stops it) and a shared journal narrow that
window; see docs/apply.md.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.kinds.customer_coupons.match import RECLAIMED
from reconciler.kinds.customer_coupons.spec import observed
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.bss.coupons import CouponRecord, PartnerCoupon
    from reconciler.kinds.customer_coupons.spec import CouponSpec

ISSUE, MANUAL_RECLAIM = "1", "2"
#: How records and messages write a time (REFERENCE §6).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Record types a person or another tool makes (the rest are the system's doing).
WRITER_TYPES = (ISSUE, MANUAL_RECLAIM)
#: Reclaims the system makes on its own: unbinding, association and association-mode changes.
SYSTEM_RECLAIMS = ("3", "7", "8")


@dataclass(frozen=True)
class CouponVerdict:
    """``committed`` None: undecided. ``absent``: no evidence either way (see the horizon)."""

    committed: bool | None
    detail: str
    record_id: str | None = None
    coupon_id: str | None = None
    amount: Decimal | None = None
    absent: bool = False


@dataclass(frozen=True)
class IssueFacts:
    """One customer's share of an issue call, as the journal knows it."""

    customer_id: str
    spec: CouponSpec  # quota, face value, validity, restrictions we asked for
    held_before: frozenset[str]  # the customer's coupon ids when the intent was recorded
    begin: datetime  # earliest API time a record of our call can carry (see :func:`api_second`)


def api_second(when: float) -> datetime:
    """``when`` (seconds, e.g. :func:`reconciler.apply.evidence.window_begin`) as the whole UTC
    second a record dated then carries: records are compared with it as parsed times."""
    return datetime.fromtimestamp(math.floor(when), tz=timezone.utc)


def issue_verdict(
    facts: IssueFacts,
    records: Iterable[CouponRecord],
    coupons: Iterable[PartnerCoupon],
    taken: Collection[str] = (),
    claimed_coupons: Collection[str] = (),
) -> CouponVerdict:
    """``taken``: record ids other journal items are attributed to; ``claimed_coupons``: coupon
    ids other journal items issued."""
    spec, cid = facts.spec, facts.customer_id
    candidates = [
        r
        for r in records
        if r.operation_type == ISSUE
        and r.result == "0"
        and r.customer_id == cid
        and r.quota_id == spec.quota_id
        and r.operation_amount == spec.face_value
        and r.operation_time >= facts.begin
        and r.id not in taken
        and r.coupon_id
        and r.coupon_id not in facts.held_before
        and r.coupon_id not in claimed_coupons
    ]
    new = {
        c.coupon_id: c
        for c in coupons
        if c.customer_id == cid
        and c.coupon_id not in facts.held_before
        and c.coupon_id not in claimed_coupons
        and _same(spec, observed(c, spec.quota_id))
    }
    seen = (
        f"{len(candidates)} issue record(s) of {fmt_money(spec.face_value)} from quota "
        f"{spec.quota_id} since {facts.begin:{TIME_FORMAT}}, {len(new)} new coupon(s) of that "
        "spec"
    )
    if len(candidates) == 1 and len(new) == 1 and candidates[0].coupon_id in new:
        rec = candidates[0]
        return CouponVerdict(
            True, f"issue record {rec.id} of coupon {rec.coupon_id}", rec.id, rec.coupon_id,
            spec.face_value,
        )  # fmt: skip
    if not candidates and not new:
        return CouponVerdict(False, f"no issue record of this call ({seen})", absent=True)
    return CouponVerdict(None, seen)


def _same(spec: CouponSpec, live: CouponSpec | str) -> bool:
    return not isinstance(live, str) and spec.accepts(live)


def reclaim_verdict(
    coupon_id: str,
    begin: datetime,
    records: Iterable[CouponRecord],
    coupon: PartnerCoupon | None,
    taken: Collection[str] = (),
) -> CouponVerdict:
    """``records``: every record of ``coupon_id``, any type."""
    mine = [r for r in records if r.coupon_id == coupon_id and r.result == "0"]
    manual = [r for r in mine if r.operation_type == MANUAL_RECLAIM]
    earlier = [r for r in manual if r.operation_time < begin]
    ours = [r for r in manual if r.operation_time >= begin and r.id not in taken]
    system = [r for r in mine if r.operation_type in SYSTEM_RECLAIMS]
    if coupon is None:
        return CouponVerdict(None, f"coupon {coupon_id} is no longer listed")
    if earlier or (system and not ours):
        rec = (earlier or system)[0]
        when = f"{rec.operation_time:{TIME_FORMAT}}"
        return CouponVerdict(
            False, f"reclaimed by record {rec.id} (type {rec.operation_type} at {when}), not by "
            "this call",
        )  # fmt: skip
    if coupon.status == RECLAIMED and len(ours) == 1:
        rec = ours[0]
        return CouponVerdict(
            True, f"reclaim record {rec.id}", rec.id, coupon_id, rec.operation_amount
        )
    if coupon.status != RECLAIMED and not ours:
        return CouponVerdict(
            False, f"coupon {coupon_id} is not reclaimed and no record says so", absent=True
        )
    return CouponVerdict(
        None, f"coupon {coupon_id} has status {coupon.status} with {len(ours)} reclaim record(s)"
    )
