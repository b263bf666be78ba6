"""The AccountFunds diff: table-driven cases, and a property that simulates applying the plan."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.kinds.account_funds.desired import FundsEntry
from reconciler.kinds.account_funds.diff import diff
from reconciler.kinds.base import KindResult
from reconciler.manifests.desired import CustomerRef

from .build import Live, at, customer, reseller

D = Decimal


def run(entries: list[FundsEntry], live: Live) -> KindResult:
    return diff(entries, live.live)


def only_problem(result: KindResult) -> str:
    assert [p.message for p in result.problems] != [], result
    (problem,) = result.problems
    return problem.message


def test_a_customer_below_its_floor_is_funded_with_the_difference() -> None:
    result = run([customer("c1", floor="5000.00")], Live().customer("c1", "800.00"))
    (change,) = result.changes
    assert (change.key, change.action, change.subject) == (
        "account-funds/customer/c1", "fund", "name-c1 (c1)")  # fmt: skip
    (call,) = change.calls
    assert (call.operation, call.method, call.path) == (
        "update_customer_account_amount",
        "POST",
        "/v2/accounts/partner-accounts/adjust-amount",
    )
    assert call.body == {"customer_id": "c1", "amount": "4200.00"}
    assert change.money is not None and change.money.issue == D("4200.00")
    assert dict(change.before) == {"amount": "800.00", "debt_amount": "0.00", "net": "800.00"}
    assert dict(change.after) == {"net": "5000.00"}
    assert result.in_scope == 1 and not result.problems and not result.notices


def test_a_customer_above_its_cap_gives_back_the_excess() -> None:
    result = run([customer("c1", cap="20000.00")], Live().customer("c1", "25000.50"))
    (change,) = result.changes
    assert change.action == "reclaim"
    assert change.calls[0].operation == "reclaim_to_partner_account"
    assert change.calls[0].body == {"customer_id": "c1", "amount": "5000.50"}


def test_inside_the_bounds_nothing_changes() -> None:
    result = run([customer("c1", "5000.00", "20000.00")], Live().customer("c1", "12000.00"))
    assert (result.changes, result.problems, result.in_scope) == ([], [], 1)


def test_a_debt_is_counted_and_said() -> None:
    result = run([customer("c1", floor="1000.00")], Live().customer("c1", "0.00", debt="150.00"))
    (change,) = result.changes
    assert (change.calls[0].body or {})["amount"] == "1150.00"
    assert any("owes 150.00: 150.00 of this transfer stands against the debt" in n
               for n in change.notes)  # fmt: skip


def test_a_resellers_customer_is_funded_from_the_resellers_account() -> None:
    live = Live().reseller("r1", "3000.00").customer("c1", "100.00", owner="r1")
    result = run([customer("c1", floor="1000.00", reseller="r1")], live)
    (change,) = result.changes
    assert change.calls[0].body == {
        "customer_id": "c1", "amount": "900.00", "indirect_partner_id": "r1"}  # fmt: skip
    assert change.subject == "name-c1 (c1), customer of reseller name-r1 (r1)"
    assert "from the allocatable account of reseller name-r1 (r1)" in change.notes


def test_a_reseller_is_topped_up_for_what_its_customers_take() -> None:
    live = Live().reseller("r1", "3000.00").customer("c1", "0.00", owner="r1")
    entries = [customer("c1", floor="1000.00", reseller="r1"), reseller("r1", floor="3000.00")]
    result = run(entries, live)
    by_key = {c.key: c for c in result.changes}
    r = by_key["account-funds/reseller/r1"]
    assert (r.action, r.calls[0].body) == (
        "fund", {"indirect_partner_id": "r1", "amount": "1000.00"})  # fmt: skip
    assert r.calls[0].operation == "update_indirect_partner_account"
    assert dict(r.before) == {"balance": "3000.00", "designated_amount": "0.00",
                              "to_customers": "1000.00"}  # fmt: skip
    assert dict(r.after) == {"balance": "3000.00"}
    assert result.in_scope == 2


@pytest.mark.parametrize(
    ("entries", "live", "message"),
    [
        ([customer("c1", floor="1.00")], Live().customer("c1", None),
         "customer name-c1 (c1) is not a resale customer of the partner: "
         "list_customers_balances_detail left it out"),
        ([customer("c1", floor="1.00", reseller="r1")],
         Live().reseller("r1").customer("c1", None, owner="r1"),
         "is not a resale customer of reseller name-r1 (r1)"),
        ([customer("c1", floor="1.00")], Live(partner=None).customer("c1", "0.00"),
         "the allocatable account (account_type 8) of the partner appears 0 times"),
        ([reseller("r1", floor="1.00")], Live().reseller("r1", None),
         "of reseller name-r1 (r1) appears 0 times"),
        ([customer("c1", floor="1.00")], Live().customer("c1", "0.00", measure=2),
         "reported in measure_id 2, not in yuan"),
        ([customer("c1", floor="900.01")], Live("1000.00", "100.00").customer("c1", "0.00"),
         "this run transfers 900.01 out of the partner's allocatable account, which can give "
         "900.00 (amount 1000.00 less designated 100.00) plus the 0.00 this run reclaims into "
         "it: short by 0.01"),
        ([customer("c1", floor="500.00", reseller="r1")],
         Live().reseller("r1", "1000.00", "800.00").customer("c1", "0.00", owner="r1"),
         "the customers of reseller name-r1 (r1) need 500.00 from its allocatable account, which "
         "after this run's other transfers would hold 500.00, of which 800.00 is designated"),
        ([customer("c1", floor="1.00")], Live().customer("c1", "1.005"),
         "the live cash of customer name-c1 (c1) is not understood"),
    ],
    ids=["not-resale", "not-resale-of-reseller", "no-partner-account", "no-reseller-account",
         "other-unit", "partner-short", "reseller-short", "sub-cent"],
)  # fmt: skip
def test_what_the_money_rests_on_must_be_there(
    entries: list[FundsEntry], live: Live, message: str
) -> None:
    assert message in only_problem(run(entries, live))


def test_reclaims_fund_the_same_run() -> None:
    live = Live("0.00").customer("c1", "3000.00").customer("c2", "0.00")
    result = run([customer("c1", cap="1000.00"), customer("c2", floor="2000.00")], live)
    assert not result.problems and len(result.changes) == 2


def test_designated_cash_above_the_cap_cannot_come_back() -> None:
    live = Live().reseller("r1", "23800.00", "5000.00")
    entry = reseller("r1", cap="0.00")
    result = run([entry], live)
    (change,) = result.changes
    assert change.money is not None
    assert (change.money.reclaim, change.money.unrecoverable) == (D("18800.00"), D("5000.00"))
    (notice,) = result.notices
    assert notice.level == "not-applicable" and notice.source == entry.cap_source
    assert "5000.00 above atMost 0.00 cannot be reclaimed" in notice.message


def test_a_customer_declared_twice_by_reference_is_one_problem() -> None:
    live = Live().customer("c1", "0.00")
    live.live.customer_refs[(None, None, "name-c1")] = "c1"
    by_id = customer("c1", floor="1.00")
    by_name = FundsEntry(CustomerRef(None, "name-c1", at()), None, by_id.bounds, at())
    result = run([by_id, by_name], live)
    assert "is declared twice" in only_problem(result)
    assert len(result.changes) == 1


def test_unresolved_references_are_left_to_the_reader() -> None:
    result = run([customer("nobody", floor="1.00"), reseller("nobody", floor="1.00")], Live())
    assert (result.changes, result.problems, result.in_scope) == ([], [], 0)
