"""The AccountFunds pieces apply and the renderers use: work parsing, preconditions, words."""

from __future__ import annotations

from decimal import Decimal

from reconciler.bss.cash import CustomerBalance
from reconciler.kinds.account_funds import render
from reconciler.kinds.account_funds.diff import diff
from reconciler.kinds.account_funds.work import parse_work
from reconciler.plan.model import Change

from .build import Live, account, customer, reseller

D = Decimal


def plan(entries: list, live: Live) -> dict[str, Change]:  # type: ignore[type-arg]
    return {c.key: c for c in diff(entries, live.live).changes}


def test_a_customer_change_is_sent_only_to_the_cash_it_was_planned_from() -> None:
    changes = plan([customer("c1", floor="1000.00")], Live().customer("c1", "0.00", debt="5.00"))
    work = parse_work(changes["account-funds/customer/c1"])
    assert (work.recipient, work.rid, work.amount, work.transfer.ledger) == (
        "customer", "c1", D("1005.00"), None)  # fmt: skip
    assert work.as_planned() == "it is no longer listed among the resale customers' balances"
    work.customer = CustomerBalance("c1", D("0.00"), D("5.00"), "CNY", 1)
    assert work.as_planned() is None
    work.customer = CustomerBalance("c1", D("0.00"), D("7.00"), "CNY", 1)
    assert work.as_planned() == (
        "its cash is now 0.00 CNY with a debt of 7.00 CNY, not the planned 0.00 CNY and 5.00 CNY"
    )
    work.customer = CustomerBalance("c1", D("1005.00"), D("5.00"), "CNY", 1)
    assert work.reached() is True
    assert work.now_text() == "net cash now 1,000.00 CNY, debt 5.00 CNY"


def test_a_reseller_change_expects_its_customers_reclaims_first() -> None:
    live = Live().reseller("r1", "23800.00", "5000.00").customer("c1", "1200.00", owner="r1")
    entries = [customer("c1", cap="200.00", reseller="r1"), reseller("r1", cap="20000.00")]
    work = parse_work(plan(entries, live)["account-funds/reseller/r1"])
    assert (work.action, work.amount, work.expected_balance()) == (
        "reclaim", D("4800.00"), D("24800.00"))  # fmt: skip
    work.account = account("23800.00", "5000.00")
    assert work.as_planned() == (
        "its allocatable account holds 23,800.00 CNY (5,000.00 CNY designated), not the "
        "24,800.00 CNY (5,000.00 CNY) its transfer was planned from"
    )
    work.account = account("24800.00", "5000.00")
    assert work.as_planned() is None
    work.account = account("20000.00", "5000.00")
    assert work.reached() is True


def test_words_for_plans_and_drift() -> None:
    live = Live().customer("c1", "0.00", debt="150.00").reseller("r1", "23800.00", "5000.00")
    changes = plan([customer("c1", floor="1000.00"), reseller("r1", cap="0.00")], live)
    c, r = changes["account-funds/customer/c1"], changes["account-funds/reseller/r1"]
    assert render.change_text(c, str) == "net cash -150.00 -> 1000.00 (cash 0.00, debt 150.00)"
    assert render.change_text(r, str) == "allocatable 23800.00 -> 5000.00 (5000.00 designated)"
    assert render.heal_text(c) == "apply transfers 1,150.00 CNY"
    assert render.heal_text(r) == (
        "apply reclaims 18,800.00 CNY; 5,000.00 CNY above the cap is designated and cannot "
        "come back"
    )
    assert render.side_text({"topUpTo": "5.00", "atMost": None}, str) == "top up to 5.00"
    assert render.side_text({}, str) == "(nothing)"
    assert render.change_text(c, lambda v: f"<{v}>").startswith("net cash <-150.00> -> <1000.00>")
