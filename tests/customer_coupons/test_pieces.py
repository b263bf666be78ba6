"""The pieces between the reader and the executor: LiveState to the diff's view (reseller
customers looked up in the reseller's list), a change read back by apply, and words that escape
every third-party value."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from reconciler.bss.models import IndirectPartner
from reconciler.kinds.base import KindResult, LiveState
from reconciler.kinds.customer_coupons import text
from reconciler.kinds.customer_coupons.plan import diff
from reconciler.kinds.customer_coupons.reads import (
    COUPONS,
    ISSUE_RECORDS,
    NOW,
    RESELLERS,
    ResellerCoupons,
)
from reconciler.kinds.customer_coupons.resolve import coupons_live
from reconciler.kinds.customer_coupons.work import held_coupons, parse_work
from reconciler.render.escape import terminal_field as terminal

from .builders import NOW as NOW_TS
from .builders import coupon, customer, declared, entry, issue_record, live_for, quota

D = Decimal


def _state() -> LiveState:
    live = LiveState()
    live.reads[NOW.name] = float(NOW_TS)
    return live


def test_the_partners_own_customer_from_the_shared_reads() -> None:
    e = entry("c-1", declared("100.00"))
    live = _state()
    live.customers["c-1"] = customer("c-1")
    live.customer_refs[("c-1", None)] = "c-1"
    live.distributor_quotas["Q-1"] = quota()
    held = coupon("A", "100.00")
    stray = coupon("B", "100.00", cid="c-9")  # an answer that ignored the customer filter
    live.lists(COUPONS)["c-1"] = [held, stray]
    live.lists(ISSUE_RECORDS)["c-1"] = [issue_record(held)]
    result = KindResult()
    found = coupons_live([e], live, result)
    assert (result.problems, found.coupons) == ([], {"c-1": [held]})
    assert found.quota_of(held) == "Q-1"
    assert diff([e], found).changes == []


def test_an_entry_not_read_is_left_to_the_readers_report() -> None:
    e = entry("c-1", declared("100.00"))
    live = _state()  # not resolved: the shared reader reports it at its line
    result = KindResult()
    assert coupons_live([e], live, result).holders == {}
    assert result.problems == []


def _reseller_state(bundle: ResellerCoupons) -> LiveState:
    live = _state()
    tianfu = IndirectPartner("r-1", "tianfu-cloud", None, None, None, None, None, None)
    live.resellers["r-1"] = tianfu
    live.reseller_refs[("r-1", None)] = "r-1"
    live.each(RESELLERS)["r-1"] = bundle
    return live


def test_a_resellers_customer_is_found_in_the_resellers_list() -> None:
    shu = customer("c-7").replace(account_name="shu-brocade")
    held = coupon("A", "50.00", cid="c-7")
    other = coupon("B", "50.00", cid="c-8")
    bundle = ResellerCoupons(
        (shu,), (quota("RQ"),), (held, other), (issue_record(held, "RQ"), issue_record(other))
    )
    e = entry("c-7", declared("50.00", quota_id="RQ"), reseller="r-1", by_name=True)
    e = replace(e, customer=replace(e.customer, account_name="shu-brocade"))
    result = KindResult()
    found = coupons_live([e], _reseller_state(bundle), result)
    assert result.problems == []
    holder = found.holders[e.source]
    assert (holder.owner, holder.owner_label) == ("r-1", "tianfu-cloud (r-1)")
    assert found.coupons == {"c-7": [held]}
    assert set(found.quotas) == {("r-1", "RQ")}
    assert diff([e], found).changes == []


def test_a_customer_the_reseller_does_not_have_is_an_error_with_a_hint() -> None:
    bundle = ResellerCoupons((customer("c-7").replace(account_name="shu-brocade"),), (), (), ())
    e = entry("c-7", declared("50.00"), reseller="r-1", by_name=True)
    e = replace(e, customer=replace(e.customer, account_name="shu-brocad"))
    result = KindResult()
    found = coupons_live([e], _reseller_state(bundle), result)
    assert found.holders == {}
    (problem,) = result.problems
    assert problem.position == e.customer.source
    assert problem.message == (
        "customer 'shu-brocad' is not a customer of reseller tianfu-cloud (r-1) "
        "(did you mean 'shu-brocade'?)"
    )


def test_apply_reads_back_what_the_plan_planned() -> None:
    e = entry("c-1", declared("300.00"), declared("100.00"), exclusive=True)
    old, kept = coupon("A", "500.00", balance="20.00"), coupon("K", "100.00")
    live = live_for([e], [old, kept])
    (change,) = diff([e], live).changes
    work = parse_work(change)
    assert (work.customer_id, work.owner, work.exclusive) == ("c-1", None, True)
    assert [(r.coupon_id, r.quota_id, r.balance) for r in work.reclaims] == [
        ("A", "Q-1", D("20.00"))
    ]
    assert [(i.body["face_value"], i.spec.face_value) for i in work.issues] == [
        ("300.00", D("300.00"))
    ]
    work.held, work.unreadable = held_coupons("c-1", [old, kept], live)
    assert work.as_planned()
    to_issue, to_reclaim = work.outstanding()
    assert ([s.face_value for s in to_issue], [h.coupon.coupon_id for h in to_reclaim]) == (
        [D("300.00")],
        ["A"],
    )
    spent_more = replace(old, balance=D("10.00"))
    work.held, _ = held_coupons("c-1", [spent_more, kept], live)
    assert not work.as_planned()  # the balance it reclaims moved: skipped, never a stale move


def test_an_issue_someone_else_made_meanwhile_is_not_made_again() -> None:
    e = entry("c-1", declared("300.00"), declared("300.00"))
    live = live_for([e])
    (change,) = diff([e], live).changes
    work = parse_work(change)
    assert len(work.issues_still_needed()) == 2
    new = coupon("N", "300.00")
    live.issue_records["N"] = [issue_record(new)]
    work.held, work.unreadable = held_coupons("c-1", [new], live)
    assert len(work.issues_still_needed()) == 1


def test_words_escape_every_value_from_live_data() -> None:
    e = entry("c-1", exclusive=True)
    hostile = coupon("X\x1b[31mRED\x07", "10.00")
    live = live_for([e], [hostile])
    (change,) = diff([e], live).changes
    shown = text.change_text(change, terminal)
    assert "\x1b" not in shown and "\x07" not in shown
    assert "reclaim coupon X\\x1b[31mRED\\x07 10.00 usable" in shown
    assert text.side_text(change.before, terminal).startswith("coupon X\\x1b")
    assert text.side_text({}, terminal) == "no coupons"
    assert text.money_text(change) == "-10.00 CNY"
