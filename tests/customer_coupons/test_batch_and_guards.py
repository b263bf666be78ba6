"""Issue calls batch customers that get the same coupon (never one customer twice in a call), and
what the coupon guards observe."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconciler.kinds.customer_coupons.batch import IssueUnit, batches
from reconciler.kinds.customer_coupons.guards import GUARDS, PER_CUSTOMER, PER_RUN, RECLAIMS
from reconciler.kinds.customer_coupons.plan import diff
from reconciler.plan.model import Change, MoneyImpact

from .builders import coupon, declared, entry, live_for

D = Decimal


def unit(cid: str, face: str = "10.00", **extra: Any) -> IssueUnit:
    body = {"quota_id": "Q-1", "customer_ids": [cid], "face_value": face, **extra}
    return IssueUnit(f"customer-coupons/{cid}", cid, body)


def test_customers_with_the_same_coupon_share_a_call() -> None:
    calls = batches([unit("a"), unit("b", "20.00"), unit("c"), unit("b")])
    assert [(b.template["face_value"], b.customer_ids) for b in calls] == [
        ("10.00", ["a", "c", "b"]),
        ("20.00", ["b"]),
    ]
    assert calls[0].body() == {
        "quota_id": "Q-1",
        "customer_ids": ["a", "c", "b"],
        "face_value": "10.00",
    }


def test_one_customer_never_twice_in_a_call_and_at_most_the_limit() -> None:
    units = [unit("a"), unit("a"), unit("b"), unit("a")] + [unit(f"x{n}") for n in range(5)]
    calls = batches(units, limit=3)
    assert [b.customer_ids for b in calls] == [
        ["a", "b", "x0"],
        ["a", "x1", "x2"],
        ["a", "x3", "x4"],
    ]
    for b in calls:
        assert len(set(b.customer_ids)) == len(b.customer_ids) <= 3


def test_a_memo_or_a_reseller_makes_a_different_call() -> None:
    calls = batches([unit("a"), unit("b", memo="x"), unit("c", indirect_partner_id="r-1")])
    assert len(calls) == 3


def _change(cid: str, issue: str, reclaims: int = 0) -> Change:
    from reconciler.plan.model import Call

    calls = tuple(Call("reclaim_partner_coupons", "POST", "/r", {"coupon_id": "x"})
                  for _ in range(reclaims))  # fmt: skip
    return Change(
        "customer-coupons", f"customer-coupons/{cid}", "issue", cid, {}, {}, calls,
        None, "sha256:0", MoneyImpact(issue=D(issue)),  # type: ignore[arg-type]
    )  # fmt: skip


def test_guard_observations() -> None:
    changes = [_change("a", "60.00"), _change("b", "40.01", 2), _change("c", "0.00", 1)]
    assert PER_RUN.observe(changes) == (D("100.01"), "in customer coupons issued by this run")
    assert PER_CUSTOMER.observe(changes) == (D("60.00"), "to customer a")
    assert RECLAIMS.observe(changes) == (3, "")
    assert PER_CUSTOMER.observe([]) == (D("0.00"), "to any customer")
    assert [g.setting for g in GUARDS] == [
        "maxCouponIssuePerRun",
        "maxCouponIssuePerCustomer",
        "maxCouponReclaimsPerRun",
    ]
    assert (PER_RUN.default, PER_CUSTOMER.default, RECLAIMS.default) == (
        D("50000.00"),
        D("10000.00"),
        10,
    )
    assert RECLAIMS.shown(3, observed=True) == "3 coupon reclaims"


def test_guards_over_a_real_plan() -> None:
    e = entry("c-1", declared("300.00"), exclusive=True)
    result = diff([e], live_for([e], [coupon("A", "500.00")]))
    assert PER_RUN.observe(result.changes)[0] == D("300.00")
    assert PER_CUSTOMER.observe(result.changes) == (D("300.00"), "to customer c-1")
    assert RECLAIMS.observe(result.changes)[0] == 1
