"""The pure diff of CustomerCoupons, one scenario per row: what is issued, reclaimed, kept, and
what stops the plan at its file:line:col."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.bss.models import QuotaLimit
from reconciler.kinds.customer_coupons.desired import CustomerCoupons
from reconciler.kinds.customer_coupons.live import CouponsLive
from reconciler.kinds.customer_coupons.plan import diff

from .builders import EC2, END, NOW_TEXT, START, coupon, customer, declared, entry, live_for, quota

D = Decimal
LATER = "2027-06-30T15:59:59Z"
SOON = "2026-09-01T00:00:00Z"  # after NOW: a coupon valid from then is not activated


def _plan(entries: list[CustomerCoupons], live: CouponsLive) -> tuple[list[str], list[str], str]:
    """(calls as 'op coupon/face', notices as 'level: start of message', money)."""
    result = diff(entries, live)
    assert not result.problems, [str(p) for p in result.problems]
    calls = [
        f"{c.operation} {(c.body or {}).get('coupon_id') or (c.body or {}).get('face_value')}"
        for ch in result.changes
        for c in ch.calls
    ]
    notices = [f"{n.level}: {' '.join(n.message.split()[:6])}" for n in result.notices]
    money = "; ".join(
        f"issue {m.issue} reclaim {m.reclaim} lost {m.unrecoverable}"
        for ch in result.changes
        if (m := ch.money) is not None
    )
    return calls, notices, money


def test_a_held_coupon_partly_spent_is_no_change() -> None:
    e = entry("c-1", declared("500.00"))
    live = live_for([e], [coupon("A", "500.00", balance="120.00")])
    assert _plan([e], live) == ([], [], "")


def test_a_missing_coupon_is_issued_as_declared() -> None:
    e = entry("c-1", declared("500.00", expire=LATER, services=(EC2,), memo="welcome"))
    result = diff([e], live_for([e]))
    (change,) = result.changes
    assert (change.key, change.action) == ("customer-coupons/c-1", "issue")
    (call,) = change.calls
    assert call.operation == "create_partner_coupons"
    assert dict(call.body or {}) == {
        "quota_id": "Q-1",
        "customer_ids": ["c-1"],
        "face_value": "500.00",
        "expire_time": LATER,
        "cloud_service_types": [EC2],
        "memo": "welcome",
    }
    assert change.money is not None and change.money.issue == D("500.00")
    assert change.source == e.source


@pytest.mark.parametrize(
    ("status", "calls"),
    [
        (1, []),  # not activated yet: held
        (2, []),  # usable: held
        (3, []),  # used up: the grant ran its course, never given again
        (4, []),  # expired: ran its course
        (5, ["create_partner_coupons 500.00"]),  # reclaimed: no longer held
    ],
    ids=["not-activated", "usable", "used", "expired", "reclaimed"],
)
def test_which_live_statuses_fulfil_a_declaration(status: int, calls: list[str]) -> None:
    e = entry("c-1", declared("500.00"))
    live = live_for([e], [coupon("A", "500.00", status=status, balance="0.00")])
    assert _plan([e], live)[0] == calls


def test_a_changed_coupon_without_exclusive_is_issued_and_the_old_one_kept() -> None:
    e = entry("c-1", declared("300.00"))
    live = live_for([e], [coupon("A", "500.00", balance="200.00")])
    calls, notices, _ = _plan([e], live)
    assert calls == ["create_partner_coupons 300.00"]
    assert notices == ["warning: keeps coupons this entry does not"]


def test_a_changed_coupon_with_exclusive_is_reclaimed_then_issued() -> None:
    e = entry("c-1", declared("300.00"), exclusive=True)
    live = live_for([e], [coupon("A", "500.00", balance="200.00")])
    result = diff([e], live)
    (change,) = result.changes
    assert change.action == "reclaim-reissue"
    assert [c.operation for c in change.calls] == [
        "reclaim_partner_coupons",
        "create_partner_coupons",
    ]
    assert change.money is not None
    assert (change.money.issue, change.money.reclaim, change.money.unrecoverable) == (
        D("300.00"),
        D("200.00"),
        D("300.00"),
    )
    assert any("already spent 300.00 (cannot come back)" in n for n in change.notes)


def test_exclusive_with_no_coupons_reclaims_every_usable_one_and_leaves_history() -> None:
    e = entry("c-1", exclusive=True)
    held = [
        coupon("A", "500.00", balance="10.00"),
        coupon("B", "100.00", status=3, balance="0.00"),
        coupon("C", "100.00", status=4, balance="0.00"),
        coupon("D", "100.00", status=5, balance="0.00"),
    ]
    assert _plan([e], live_for([e], held)) == (
        ["reclaim_partner_coupons A"],
        [],
        "issue 0.00 reclaim 10.00 lost 490.00",
    )


def test_an_undeclared_coupon_not_yet_activated_waits_for_its_start() -> None:
    e = entry("c-1", exclusive=True)
    live = live_for([e], [coupon("A", "500.00", status=1, effective=SOON)])
    assert _plan([e], live) == ([], ["not-applicable: coupon A (500.00) is not declared,"], "")


def test_two_identical_declarations_are_two_coupons() -> None:
    e = entry("c-1", declared("100.00"), declared("100.00"))
    live = live_for([e], [coupon("A", "100.00")])
    assert _plan([e], live)[0] == ["create_partner_coupons 100.00"]


ON_EC2 = [("cloud_service_types", EC2)]
MATCHES = [
    # (declared, live coupon, held?)
    (declared("100.00"), coupon("A", "100.00"), True),
    (declared("100.00", valid=START, expire=END), coupon("A", "100.00"), True),
    (declared("100.00", expire=LATER), coupon("A", "100.00"), False),
    (declared("100.00", expire=END), coupon("A", "100.00", expire=LATER), False),
    (declared("100.00", valid=SOON), coupon("A", "100.00"), False),
    (declared("100.00", quota_id="Q-2"), coupon("A", "100.00"), False),
    (declared("100.00"), coupon("A", "100.01"), False),
    (declared("100.00", services=(EC2,)), coupon("A", "100.00", limits=ON_EC2), True),
    (declared("100.00", services=(EC2,)), coupon("A", "100.00"), False),
    (declared("100.00"), coupon("A", "100.00", limits=ON_EC2), False),
    (declared("1.00", products=("p1",)), coupon("A", "1.00", limits=[("product_ids", "p1")]), True),
]  # fmt: skip


@pytest.mark.parametrize(("want", "live_coupon", "held"), MATCHES)
def test_what_makes_a_live_coupon_the_declared_one(
    want: object, live_coupon: object, held: bool
) -> None:
    from reconciler.bss.coupons import PartnerCoupon
    from reconciler.kinds.customer_coupons.desired import DeclaredCoupon

    assert isinstance(want, DeclaredCoupon) and isinstance(live_coupon, PartnerCoupon)
    e = entry("c-1", want)
    live = live_for([e], [live_coupon], quotas=[quota(), quota("Q-2")])
    assert (_plan([e], live)[0] == []) is held


def test_coupons_inherit_the_quotas_restrictions() -> None:
    both = QuotaLimit("cloud_service_types", (EC2, "hws.service.type.ebs"))
    limited = quota(limits=(both,))
    inherit = [("cloud_service_types", EC2), ("cloud_service_types", "hws.service.type.ebs")]
    e = entry("c-1", declared("100.00"))
    assert (
        _plan([e], live_for([e], [coupon("A", "100.00", limits=inherit)], quotas=[limited]))[0]
        == []
    )
    narrowed = entry("c-1", declared("100.00", services=(EC2,)))
    only = [("cloud_service_types", EC2)]
    live = live_for([narrowed], [coupon("A", "100.00", limits=only)], quotas=[limited])
    assert _plan([narrowed], live)[0] == []


def test_a_coupon_whose_quota_cannot_be_told_freezes_the_customer() -> None:
    e = entry("c-1", declared("100.00"))
    live = live_for([e], [coupon("A", "50.00")], records=[])
    calls, notices, _ = _plan([e], live)
    assert calls == []
    assert notices == ["not-applicable: its coupons cannot be planned: coupon"]
    result = diff([e], live)
    assert "no single successful issue record" in result.notices[0].message


PROBLEMS = [
    pytest.param(
        {"customers": [customer("c-1", "1")]},
        "is not a resale customer (association_type '1')",
        id="referral-customer",
    ),
    pytest.param(
        {"quotas": [quota("Q-7")]}, "'Q-1' is not one of your coupon quotas", id="unknown-quota"
    ),
    pytest.param(
        {"quotas": [quota(status=5)]}, "quota Q-1 is frozen: nothing can be issued", id="frozen"
    ),
    pytest.param(
        {"quotas": [quota(effective=SOON)]}, "quota Q-1 is not effective now", id="not-yet"
    ),
    pytest.param(
        {"quotas": [quota(expire="2026-05-01T00:00:00Z")]},
        "is not effective now",
        id="quota-expired",
    ),
    pytest.param(
        {"quotas": [quota(balance="99.99")]},
        "need 100.00 from quota Q-1, which holds 99.99",
        id="short",
    ),
    pytest.param(
        {"quotas": [quota(limits=None)]}, "does not list its restrictions", id="no-limit-infos"
    ),
    pytest.param(
        {"quotas": [quota(expire=None)]}, "has no expiry: set expireTime", id="quota-no-expiry"
    ),
]


@pytest.mark.parametrize(("given", "says"), PROBLEMS)
def test_what_stops_the_plan_at_the_manifest(given: dict[str, list[object]], says: str) -> None:
    e = entry("c-1", declared("100.00"))
    result = diff([e], live_for([e], **given))  # type: ignore[arg-type]
    assert any(says in str(p) for p in result.problems), [str(p) for p in result.problems]


COUPON_PROBLEMS = [
    pytest.param(
        declared("1.00", expire="2026-05-31T23:59:59Z"), "would already have expired", id="expired"
    ),
    pytest.param(
        declared("1.00", services=("hws.service.type.obs",)),
        "outside quota Q-1's restrictions",
        id="wider",
    ),
    pytest.param(
        declared("1.00", valid="2025-12-31T00:00:00Z"), "before quota Q-1 is effective", id="early"
    ),
    pytest.param(
        declared("1.00", expire="2028-01-01T00:00:00Z"), "after quota Q-1 expires", id="late"
    ),
    pytest.param(declared("1.00", valid=END), "would not start before it expires", id="inverted"),
]


@pytest.mark.parametrize(("want", "says"), COUPON_PROBLEMS)
def test_a_coupon_the_api_would_refuse_is_an_error_at_its_line(want: object, says: str) -> None:
    from reconciler.kinds.customer_coupons.desired import DeclaredCoupon

    assert isinstance(want, DeclaredCoupon)
    ec2 = quota(limits=(QuotaLimit("cloud_service_types", (EC2,)),))
    e = entry("c-1", want)
    result = diff([e], live_for([e], quotas=[ec2]))
    assert result.changes == []
    (problem,) = result.problems
    assert says in problem.message and problem.position == want.source


def test_a_frozen_quota_does_not_matter_for_coupons_already_held() -> None:
    e = entry("c-1", declared("100.00"))
    result = diff([e], live_for([e], [coupon("A", "100.00")], quotas=[quota(status=5)]))
    assert (result.changes, result.problems) == ([], [])


def test_the_quota_balance_counts_the_runs_reclaims() -> None:
    a = entry("c-1", declared("600.00"), exclusive=True)
    b = entry("c-2", declared("400.00"))
    live = live_for(
        [a, b], [coupon("A", "500.00", balance="500.00")], quotas=[quota(balance="500.00")]
    )
    result = diff([a, b], live)
    assert result.problems == []
    assert [c.action for c in result.changes] == ["reclaim-reissue", "issue"]
    short = live_for(
        [a, b], [coupon("A", "500.00", balance="499.99")], quotas=[quota(balance="500.00")]
    )
    (problem,) = diff([a, b], short).problems
    assert "need 500.01 from quota Q-1, which holds 500.00 (after this run's reclaims)" in str(
        problem
    )


def test_one_customer_declared_by_name_and_by_id_is_an_error() -> None:
    a = entry("c-1", declared("100.00"))
    b = entry("c-1", declared("200.00"), by_name=True)
    result = diff([a, b], live_for([a, b]))
    (problem,) = result.problems
    assert "is declared twice; also declared at" in problem.message
    assert problem.position == b.source


def test_a_resellers_customer_issues_from_the_resellers_quota() -> None:
    e = entry("c-9", declared("50.00", quota_id="RQ-1"), reseller="r-1")
    live = live_for([e], quotas=[quota("RQ-1")], owner="r-1")
    (change,) = diff([e], live).changes
    (call,) = change.calls
    assert (call.body or {})["indirect_partner_id"] == "r-1"
    assert change.subject.endswith(", customer of reseller r-1")
    wrong = live_for([e], quotas=[quota("RQ-1")], owner="r-2")
    wrong.holders[e.source] = live.holders[e.source]
    (problem,) = diff([e], wrong).problems
    assert problem.message.startswith("'RQ-1' is not one of reseller r-1's coupon quotas")


def test_now_is_the_apis_clock() -> None:
    e = entry("c-1", declared("1.00", expire=SOON))
    assert diff([e], live_for([e])).changes
    late = live_for([e], now=(live_for([e]).now + 200 * 86400))
    assert "would already have expired" in str(diff([e], late).problems[0])
    assert NOW_TEXT < SOON
