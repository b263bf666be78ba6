"""Issue calls batch customers that get the same coupon (never one customer twice in a call), and
the coupon guards count only this kind's money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from reconciler.kinds.customer_coupons.batch import IssueUnit, batches
from reconciler.kinds.customer_coupons.guards import CouponGuards, evaluate
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


GUARDS = CouponGuards(D("100.00"), D("60.00"), 1)


@pytest.mark.parametrize(
    ("changes", "blocked"),
    [
        ([_change("a", "60.00"), _change("b", "40.00", 1)], []),
        ([_change("a", "60.01")], ["max-coupon-issue-per-customer"]),
        ([_change("a", "60.00"), _change("b", "40.01")], ["max-coupon-issue-per-run"]),
        ([_change("a", "0.00", 2)], ["max-coupon-reclaims-per-run"]),
    ],
    ids=["within", "per-customer", "per-run", "reclaims"],
)
def test_guards(changes: list[Change], blocked: list[str]) -> None:
    results = evaluate(changes, GUARDS, allow=())
    assert [g.name for g in results if g.blocks] == blocked
    allowed = evaluate(changes, GUARDS, allow=set(blocked))
    assert not [g for g in allowed if g.blocks]


def test_the_guard_messages_name_value_limit_and_flag() -> None:
    (per_customer,) = [g for g in evaluate([_change("c-7", "75.00")], GUARDS, ()) if g.blocks]
    assert per_customer.message() == (
        "guard max-coupon-issue-per-customer: 75.00 against a limit of 60.00 (in coupons to "
        "customer c-7): BLOCKED; to proceed anyway, pass --allow max-coupon-issue-per-customer"
    )


def test_other_kinds_money_is_not_counted() -> None:
    other = _change("r", "1000.00")
    quota_change = Change(**{**other.__dict__, "kind": "reseller-quota"})
    assert not [g for g in evaluate([quota_change], GUARDS, ()) if g.blocks]


def test_guard_settings_and_defaults() -> None:
    assert CouponGuards.from_settings(None) == CouponGuards()
    given = {"maxCouponIssuePerRun": "5.00", "maxCouponReclaimsPerRun": 0, "maxIssuePerRun": "1.00"}
    assert CouponGuards.from_settings(given) == CouponGuards(D("5.00"), D("10000.00"), 0)


def test_guards_over_a_real_plan() -> None:
    e = entry("c-1", declared("300.00"), exclusive=True)
    result = diff([e], live_for([e], [coupon("A", "500.00")]))
    verdicts = {g.name: g for g in evaluate(result.changes, CouponGuards(), ())}
    assert verdicts["max-coupon-issue-per-run"].observed == "300.00"
    assert verdicts["max-coupon-reclaims-per-run"].observed == "1 coupon reclaims"
