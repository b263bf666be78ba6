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
same single candidate ours would have. The check for other writers before every write
(:func:`foreign_records`) and a shared journal narrow that window; see docs/apply.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.kinds.customer_coupons.match import RECLAIMED
from reconciler.kinds.customer_coupons.spec import observed
from reconciler.plan.model import fmt_money

if TYPE_CHECKING:
    from reconciler.bss.coupons import CouponRecord, PartnerCoupon
    from reconciler.kinds.customer_coupons.spec import CouponSpec

ISSUE, MANUAL_RECLAIM = "1", "2"
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
    begin: str  # earliest API time a record of our call can carry (yyyy-MM-ddTHH:mm:ssZ)


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
        f"{spec.quota_id} since {facts.begin}, {len(new)} new coupon(s) of that spec"
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
    begin: str,
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
        return CouponVerdict(False, f"reclaimed by record {rec.id} (type {rec.operation_type} at "
                                    f"{rec.operation_time}), not by this call")  # fmt: skip
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


# -- other writers -----------------------------------------------------------------------------


@dataclass
class OurRecords:
    """Decides whether a coupon record was made by this journal (records carry no operator).

    A record is ours when its id is attributed to one of our items; when it names a coupon one
    of our items issued (the answer's coupon id) or reclaimed; or when one of our issue items
    still without a record (sent, answer lost or failed inside HTTP 200) accounts for it:
    same customer, quota, amount and result, each item for one record.
    """

    attributed: Collection[str]
    coupons: Collection[str]
    slots: Counter[tuple[str, str, str, str]]  # (customer, quota, amount, result)

    def explains(self, record: CouponRecord) -> bool:
        if record.id in self.attributed or (record.coupon_id and record.coupon_id in self.coupons):
            return True
        if record.operation_type != ISSUE:
            return False
        slot = (record.customer_id, record.quota_id, fmt_money(record.operation_amount),
                record.result)  # fmt: skip
        if self.slots[slot] > 0:
            self.slots[slot] -= 1
            return True
        return False


def foreign_records(
    records: Sequence[CouponRecord], ours: OurRecords, customers: Collection[str], begin: str
) -> dict[str, CouponRecord]:
    """Customer id -> the first issue or manual-reclaim record on it since ``begin`` that this
    journal did not make: another writer is active on that customer."""
    found: dict[str, CouponRecord] = {}
    for record in sorted(records, key=lambda r: (r.operation_time, r.id)):
        cid = record.customer_id
        if (
            cid in customers
            and cid not in found
            and record.operation_type in WRITER_TYPES
            and record.operation_time >= begin
            and not ours.explains(record)
        ):
            found[cid] = record
    return found


def foreign_message(record: CouponRecord) -> str:
    what = "issue" if record.operation_type == ISSUE else "reclaim"
    result = "failed" if record.result == "-1" else "succeeded"
    coupon = f" of coupon {record.coupon_id}" if record.coupon_id else ""
    return (
        f"frozen: another writer is active on this customer: record {record.id} ({what}{coupon} "
        f"of {fmt_money(record.operation_amount)} from quota {record.quota_id} at "
        f"{record.operation_time}, {result}) was not made by this journal; nothing was written "
        "to it in this run. Let that apply (with its own journal) or person finish, make every "
        "apply of this account share one journal (docs/gitops.md), then run apply again"
    )
