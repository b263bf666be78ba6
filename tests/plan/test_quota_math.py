"""How a reseller's balance moves to its target: table-driven, exact to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.bss.models import IssuedQuota
from reconciler.kinds.reseller_quota.diff import live_balance, plan_move


def quota(qid: str, balance: str, value: str | None = None, status: int = 0) -> IssuedQuota:
    return IssuedQuota(
        quota_id=qid,
        parent_quota_id="P",
        indirect_partner_id="R",
        indirect_partner_account_name=None,
        quota_value=Decimal(value or balance),
        balance=Decimal(balance),
        quota_status=status,
        create_time=None,
        expire_time=None,
    )


CASES = [
    # id, children, target, reclaimed ids, issue
    ("raise-from-nothing", [], "5000.00", [], "5000.00"),
    ("raise-by-delta", [quota("a", "3000.00")], "5000.01", [], "2000.01"),
    ("in-sync", [quota("a", "3000.00"), quota("b", "2000.00")], "5000.00", [], "0.00"),
    ("lower-to-zero", [quota("a", "3000.00"), quota("b", "2000.00")], "0.00", ["a", "b"], "0.00"),
    (
        "one-child-covers-exactly",
        [quota("a", "1000.00"), quota("b", "4000.00")],
        "4000.00",
        ["a"],
        "0.00",
    ),
    (
        "smallest-covering-child",
        [quota("a", "1000.00"), quota("b", "4000.00"), quota("c", "9000.00")],
        "12500.00",
        ["b"],
        "2500.00",
    ),
    (
        "largest-first-when-no-single-covers",
        [quota("a", "1000.00"), quota("b", "1200.00"), quota("c", "2500.00")],
        "1500.00",
        ["c", "b"],
        "500.00",
    ),
    (
        "ignores-other-statuses",
        [quota("a", "3000.00"), quota("f", "900.00", status=5), quota("r", "0.00", "5000.00", 6)],
        "1000.00",
        ["a"],
        "1000.00",
    ),
    (
        "fully-spent-child-is-not-reclaimed",
        [quota("a", "0.00", "5000.00"), quota("b", "2000.00")],
        "1500.00",
        ["b"],
        "1500.00",
    ),
]


@pytest.mark.parametrize(
    ("children", "target", "reclaimed", "issue"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan_move(
    children: list[IssuedQuota], target: str, reclaimed: list[str], issue: str
) -> None:
    move = plan_move(children, Decimal(target))
    assert [q.quota_id for q in move.reclaim] == reclaimed
    assert move.issue == Decimal(issue)
    # the invariant: live - reclaimed + issued = target, to the cent
    assert live_balance(children) - move.reclaimed + move.issue == Decimal(target)


def test_spent_money_is_reported_as_unrecoverable() -> None:
    move = plan_move([quota("a", "18500.00", "25000.00")], Decimal("12000.00"))
    assert move.reclaimed == Decimal("18500.00")
    assert move.unrecoverable == Decimal("6500.00")
    assert move.issue == Decimal("12000.00")


def test_amounts_never_become_floats() -> None:
    move = plan_move([quota("a", "0.10"), quota("b", "0.20")], Decimal("0.30"))
    assert move.issue == Decimal("0.00") and not move.reclaim
    move = plan_move([quota("a", "0.10"), quota("b", "0.20")], Decimal("0.31"))
    assert move.issue == Decimal("0.01")
    assert str(move.issue) == "0.01"
