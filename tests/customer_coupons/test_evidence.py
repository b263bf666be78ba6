"""What the coupon records prove about an issue or reclaim whose answer was lost: table-driven,
one situation per row. A coupon record names no operator: its owner is unknown, so it never
settles a call, not even as "not committed" (docs/apply.md, "Settlement rules")."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from reconciler.bss.coupons import CouponRecord
from reconciler.kinds.customer_coupons.evidence import IssueFacts, issue_verdict, reclaim_verdict
from reconciler.kinds.customer_coupons.spec import CouponSpec, observed

from .builders import Q, coupon
from .builders import at as parsed

D = Decimal
SENT = "2026-06-01T10:00:00Z"
BEFORE, AFTER = "2026-06-01T09:59:59Z", "2026-06-01T10:00:01Z"
END, LATE = "2026-06-01T10:05:00Z", "2026-06-01T10:05:01Z"  # the call's window ends at END
OLD = coupon("OLD", "100.00")
NEW = coupon("NEW", "100.00", created=AFTER)
spec = observed(NEW, Q)
assert isinstance(spec, CouponSpec)
FACTS = IssueFacts(
    "c-1", spec, frozenset({"OLD"}), parsed(SENT).timestamp(), parsed(END).timestamp()
)
UNKNOWN = "without an operator"


def rec(
    coupon_id: str | None = "NEW",
    *,
    rid: str = "r-1",
    kind: str = "1",
    amount: str = "100.00",
    at: str = AFTER,
    result: str = "0",
    customer: str = "c-1",
    quota: str = Q,
) -> CouponRecord:
    return CouponRecord(
        rid, kind, quota, 0, coupon_id, customer, D(amount), parsed(at), result, None
    )


ISSUES = [
    # (records, live coupons, taken record ids, committed, absent, detail contains)
    ([rec()], [OLD, NEW], (), None, False, "coupon issue record r-1 of 100.00"),  # unknown owner
    ([], [OLD], (), False, True, "no issue record of this call"),
    ([rec(result="-1", coupon_id=None)], [OLD], (), False, True, "no issue record"),
    ([rec(at=BEFORE)], [OLD, NEW], (), None, False, "new coupon(s) NEW"),
    ([rec(at=BEFORE)], [OLD], (), False, True, "no issue record"),  # before the first send
    ([rec(at=LATE)], [OLD], (), False, True, "no issue record"),  # after the window
    ([rec()], [OLD], (), None, False, UNKNOWN),  # record without its coupon
    ([], [OLD, NEW], (), None, False, "new coupon(s) NEW"),  # coupon without its record
    ([rec(), rec("NEW2", rid="r-2")], [OLD, NEW, replace(NEW, coupon_id="NEW2")], (), None,
     False, "records r-1, r-2"),  # another writer issued the very same coupon: frozen
    ([rec(amount="100.01")], [OLD, NEW], (), None, False, "new coupon(s) NEW"),
    ([rec(quota="Q-9")], [OLD, NEW], (), None, False, "new coupon(s) NEW"),
    ([rec(customer="c-2")], [OLD, NEW], (), None, False, "new coupon(s) NEW"),
    ([rec("OLD")], [OLD], (), False, True, "no issue record"),  # a coupon it held before
    ([rec()], [OLD, NEW], ("r-1",), None, False, "new coupon(s) NEW"),  # claimed elsewhere
    ([rec()], [OLD], ("r-1",), False, True, "no issue record"),
    ([rec()], [OLD, replace(NEW, face_value=D("90.00"))], (), None, False, UNKNOWN),
    ([rec()], [OLD, replace(NEW, status=3, balance=D("0.00"))], (), None, False, UNKNOWN),
]  # fmt: skip


@pytest.mark.parametrize(("records", "coupons", "taken", "committed", "absent", "says"), ISSUES)
def test_issue_verdicts(
    records: list[CouponRecord],
    coupons: list[object],
    taken: tuple[str, ...],
    committed: bool | None,
    absent: bool,
    says: str,
) -> None:
    verdict = issue_verdict(FACTS, records, coupons, taken)  # type: ignore[arg-type]
    assert (verdict.committed, verdict.absent) == (committed, absent), verdict.detail
    assert says in verdict.detail
    if committed is None and says == UNKNOWN:
        assert "unknown owner" in verdict.detail


def test_a_coupon_another_item_of_ours_issued_is_not_this_items() -> None:
    verdict = issue_verdict(FACTS, [rec()], [OLD, NEW], claimed_coupons={"NEW"})
    assert (verdict.committed, verdict.absent) == (False, True)


LIVE = coupon("X", "100.00", balance="40.00")
GONE = replace(LIVE, status=5, balance=D("0.00"))
RECLAIMS = [
    # (records of X, coupon now, taken record ids, committed, absent, detail contains)
    ([rec("X", kind="2", amount="40.00")], GONE, (), None, False, UNKNOWN),  # ours or not?
    ([], LIVE, (), False, True, "not reclaimed and no record"),
    ([rec("X", kind="2", result="-1")], LIVE, (), False, True, "not reclaimed"),
    ([rec("X", kind="2", at=BEFORE)], GONE, (), None, False, UNKNOWN),  # never "someone else"
    ([rec("X", kind="3")], GONE, (), False, False, "type 3"),  # unbinding reclaimed it
    ([rec("X", kind="3"), rec("X", kind="2", rid="r-2")], GONE, (), None, False, UNKNOWN),
    ([rec("X", kind="2")], GONE, ("r-1",), False, False, "another operation of this journal"),
    ([], GONE, (), None, False, "status 5 without a reclaim record"),  # nobody says by whom
    ([rec("X", kind="2")], LIVE, (), None, False, UNKNOWN),  # record, not reclaimed
    ([rec("X", kind="2"), rec("X", kind="2", rid="r-2")], GONE, (), None, False, "r-1, r-2"),
    ([rec("X", kind="2")], None, (), None, False, "no longer listed"),
    ([rec("X", kind="4")], replace(LIVE, status=4, balance=D("0")), (), False, True, "no record"),
]  # fmt: skip


@pytest.mark.parametrize(("records", "now", "taken", "committed", "absent", "says"), RECLAIMS)
def test_reclaim_verdicts(
    records: list[CouponRecord],
    now: object,
    taken: tuple[str, ...],
    committed: bool | None,
    absent: bool,
    says: str,
) -> None:
    verdict = reclaim_verdict("X", records, now, taken)  # type: ignore[arg-type]
    assert (verdict.committed, verdict.absent) == (committed, absent), verdict.detail
    assert says in verdict.detail
