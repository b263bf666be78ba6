"""What the coupon records and the coupon list prove about one of our writes (pure functions).

``create_partner_coupons`` and ``reclaim_partner_coupons`` have no idempotency key, and the coupon
records (§7.16) name **no operator**: a coupon record cannot say *who* made it, so it has an
**unknown owner** (docs/apply.md, "Settlement rules"): it is neither the proof of our call nor
someone else's, and settles nothing, not even "not committed". Only an answer proves a coupon
ours (the coupon id it returned, :mod:`.calls`); a lost answer is settled from the records only
when they show that the call cannot have taken effect.

**Issue** of face value F from quota Q to customer C, in the call's window (on the API's clock,
widened by the records-clock allowance: :meth:`reconciler.apply.evidence.Evidence.window`). A
record is a *candidate* when it is a successful issue (type "1", result "0") for C, from Q, of
exactly F, stamped within the window, claimed by no other item of this journal, and it names a
coupon C did not hold when our intent was recorded and no other item of ours issued. Any
candidate leaves the call **undecided** (unknown owner): the customer is frozen until a person
settles it. It is **absent** (not committed, once nothing can still land) when there is no
candidate and C holds no new coupon of that spec; a new coupon without its record is undecided.
Failed records ("-1") prove nothing either way.

**Reclaim** of coupon X. A successful manual-reclaim record (type "2") of X, at any time and not
linked to another item of ours, leaves the call **undecided** (unknown owner). Otherwise the call
is **not committed** when the system reclaimed X (unbinding, association changes: types 3, 7, 8;
the type names the API as its author, and a coupon is reclaimed once), and **absent** when X is
not reclaimed. It is not committed either when X's manual-reclaim record is linked to another of
our reclaims (its answer named X). A reclaimed X without any record is undecided.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.apply.evidence import RecordFacts, in_window, unknown_owner
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
    absent: bool = False


@dataclass(frozen=True)
class IssueFacts:
    """One customer's share of an issue call, as the journal knows it."""

    customer_id: str
    spec: CouponSpec  # quota, face value, validity, restrictions we asked for
    held_before: frozenset[str]  # the customer's coupon ids when the intent was recorded
    begin: float  # the call's window on the API's clock (Evidence.window), seconds
    end: float


def record_facts(record: CouponRecord) -> RecordFacts:
    """A coupon record as settlement and the records check read it (it names no operator)."""
    issue = record.operation_type == ISSUE
    return RecordFacts(
        id=record.id,
        recipient=record.customer_id,
        amount=record.operation_amount,
        result=record.result,
        time=record.operation_time,
        operator=None,  # coupon records name no operator
        remark=record.remark,
        subject=record.coupon_id,
        delta=issue,
        noun="coupon issue" if issue else "coupon reclaim",
        did="issued" if issue else "reclaimed",
    )


def _unknown(records: list[CouponRecord], where: str) -> CouponVerdict | None:
    found = unknown_owner([record_facts(r) for r in records], where)
    return None if found is None else CouponVerdict(None, found.detail)


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
        and in_window(record_facts(r), facts.begin, facts.end)
        and r.id not in taken
        and r.coupon_id
        and r.coupon_id not in facts.held_before
        and r.coupon_id not in claimed_coupons
    ]
    new = [
        c.coupon_id
        for c in coupons
        if c.customer_id == cid
        and c.coupon_id not in facts.held_before
        and c.coupon_id not in claimed_coupons
        and _same(spec, observed(c, spec.quota_id))
    ]
    where = f"of {fmt_money(spec.face_value)} from quota {spec.quota_id} to this customer"
    unknown = _unknown(candidates, where)
    if unknown is not None:
        return unknown
    if not new:
        return CouponVerdict(
            False, f"no issue record of this call and no new coupon ({where})", True
        )
    return CouponVerdict(
        None, f"new coupon(s) {', '.join(sorted(new))} of that spec without an issue record"
    )


def _same(spec: CouponSpec, live: CouponSpec | str) -> bool:
    return not isinstance(live, str) and spec.accepts(live)


def reclaim_verdict(
    coupon_id: str,
    records: Iterable[CouponRecord],
    coupon: PartnerCoupon | None,
    taken: Collection[str] = (),
) -> CouponVerdict:
    """``records``: every record of ``coupon_id``, any type."""
    done = [r for r in records if r.coupon_id == coupon_id and r.result == "0"]
    manual = [r for r in done if r.operation_type == MANUAL_RECLAIM and r.id not in taken]
    system = [r for r in done if r.operation_type in SYSTEM_RECLAIMS]
    if coupon is None:
        return CouponVerdict(None, f"coupon {coupon_id} is no longer listed")
    unknown = _unknown(manual, f"of coupon {coupon_id}")
    if unknown is not None:
        return unknown
    linked = [r for r in done if r.operation_type == MANUAL_RECLAIM and r.id in taken]
    if system or linked:
        rec = (system or linked)[0]
        who = "the system" if system else "another operation of this journal"
        return CouponVerdict(
            False, f"reclaimed by {who} (record {rec.id}, type {rec.operation_type} at "
            f"{rec.operation_time:{TIME_FORMAT}}), not by this call",
        )  # fmt: skip
    if coupon.status != RECLAIMED:
        return CouponVerdict(
            False, f"coupon {coupon_id} is not reclaimed and no record says so", absent=True
        )
    return CouponVerdict(
        None, f"coupon {coupon_id} has status {coupon.status} without a reclaim record"
    )
