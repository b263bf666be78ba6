"""Every emulator fault on every coupon and cash call, against the client's retry table, in both
modes (the table in ``test_limits_and_faults.py`` applies unchanged):

* a money write (issue, reclaim, the four transfers) that may have been sent is never re-sent:
  ``commit_then_drop``, ``drop_before_commit``, ``http_500`` and a latency beyond the timeout all
  raise :class:`OutcomeUnknownError` after exactly one call, committed or not as the fault says;
* ``throttle`` is answered before execution, so the write is retried and committed once;
* ``item_error`` comes back as the call's per-item failure, nothing moved;
* reads retry every fault.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, CouponIssueResult, CouponReclaimResult, TransferResult
from reconciler.errors import OutcomeUnknownError
from tests.emulator import demo

from .harness import Contract

D = Decimal
TIMEOUT = 0.25
Action = Callable[[BssClient], Awaitable[Any]]
Moved = Callable[[dict[str, Any]], bool]


def _customer_cash(customer_id: str, seeded: str) -> Moved:
    return lambda state: state["customers"][customer_id]["amount"] != seeded


def _ledger_grew(state: dict[str, Any]) -> bool:
    return len(state["adjust_records"]) > demo.ADJUST_RECORDS + 2


#: operation, the call, its path, the id an item_error names, and how to tell it moved money.
WRITES: list[tuple[str, Action, str, str, Moved]] = [
    ("create_partner_coupons",
     lambda c: c.create_partner_coupons(demo.QUOTA_COUPONS, [demo.HAINA], D("10.00")),
     "/v2/promotions/benefits/partner-coupons", demo.HAINA,
     lambda s: s["quotas"][demo.QUOTA_COUPONS]["balance"] != "90050.00"),
    ("reclaim_partner_coupons", lambda c: c.reclaim_partner_coupons(demo.COUPON_HUAXIA),
     "/v2/promotions/benefits/partner-coupons/reclaim", demo.COUPON_HUAXIA,
     lambda s: s["coupons"][demo.COUPON_HUAXIA]["status"] == 5),
    ("update_customer_account_amount",
     lambda c: c.update_customer_account_amount(demo.XINGHE, D("10.00")),
     "/v2/accounts/partner-accounts/adjust-amount", demo.XINGHE,
     _customer_cash(demo.XINGHE, "12000.00")),
    ("reclaim_to_partner_account", lambda c: c.reclaim_to_partner_account(demo.XINGHE, D("10.00")),
     "/v2/accounts/partner-accounts/reclaim", demo.XINGHE,
     _customer_cash(demo.XINGHE, "12000.00")),
    ("update_indirect_partner_account",
     lambda c: c.update_indirect_partner_account(demo.TIANFU, D("10.00")),
     "/v2/accounts/partner-accounts/indirect-partner-adjust", demo.TIANFU, _ledger_grew),
    ("reclaim_indirect_partner_account",
     lambda c: c.reclaim_indirect_partner_account(demo.TIANFU, D("10.00")),
     "/v2/accounts/partner-accounts/indirect-partner-reclaim", demo.TIANFU, _ledger_grew),
]  # fmt: skip
LOST = [
    pytest.param("commit_then_drop", {}, 200, True, id="commit_then_drop"),
    pytest.param("drop_before_commit", {}, None, False, id="drop_before_commit"),
    pytest.param("http_500", {}, 500, False, id="http_500"),
    pytest.param("latency", {"seconds": 1.0}, 200, True, id="latency-beyond-timeout"),
]


@pytest.mark.parametrize(("operation", "action", "path", "item", "moved"), WRITES,
                         ids=[w[0] for w in WRITES])  # fmt: skip
@pytest.mark.parametrize(("kind", "spec", "status", "committed"), LOST)
def test_a_money_write_that_may_have_been_sent_is_outcome_unknown(
    contract: Contract,
    operation: str,
    action: Action,
    path: str,
    item: str,
    moved: Moved,
    kind: str,
    spec: dict[str, Any],
    status: int | None,
    committed: bool,
) -> None:
    contract.control.add_fault(operation, kind, **spec)
    client = contract.new_client(timeout=TIMEOUT)
    with pytest.raises(OutcomeUnknownError) as info:
        contract.run(action(client))
    assert str(info.value).startswith(f"POST {path} -> outcome unknown")
    (logged,) = contract.control.calls(operation)  # exactly one call: never re-sent
    if operation == "reclaim_partner_coupons" and status == 200:
        status = 204  # its success status
    assert (logged["status"], logged["fault"]) == (status, [kind])
    stats = client.stats()[operation]
    assert (stats.calls, stats.retries) == (1, 0)
    assert moved(contract.control.state()) is committed


@pytest.mark.parametrize(("operation", "action", "path", "item", "moved"), WRITES,
                         ids=[w[0] for w in WRITES])  # fmt: skip
def test_a_throttled_money_write_is_retried_and_committed_once(
    contract: Contract, operation: str, action: Action, path: str, item: str, moved: Moved
) -> None:
    contract.control.add_fault(operation, "throttle", count=2)
    result = contract.call(action)
    ok = 204 if operation == "reclaim_partner_coupons" else 200
    assert contract.statuses(operation) == [429, 429, ok]
    assert moved(contract.control.state())
    if isinstance(result, CouponIssueResult):
        assert list(result.successes) == [demo.HAINA]
    else:
        assert result.failure is None


@pytest.mark.parametrize(("operation", "action", "path", "item", "moved"), WRITES,
                         ids=[w[0] for w in WRITES])  # fmt: skip
def test_an_item_error_is_a_failure_of_that_item(
    contract: Contract, operation: str, action: Action, path: str, item: str, moved: Moved
) -> None:
    contract.control.add_fault(operation, "item_error", ids=[item], error_code="CBC.99001234")
    result = contract.call(action)
    if isinstance(result, CouponIssueResult):
        assert (result.successes, result.unaccounted) == ({}, ())
        failures = result.failures
    else:
        assert isinstance(result, (CouponReclaimResult, TransferResult))
        assert result.failure is not None
        failures = (result.failure,)
    assert [(f.id, f.error_code) for f in failures] == [(item, "CBC.99001234")]
    assert contract.statuses(operation) == [200]  # answered, never re-sent
    assert not moved(contract.control.state())


READS: list[tuple[str, Action]] = [
    ("list_issued_partner_coupons", lambda c: c.list_issued_partner_coupons(limit=1)),
    ("list_partner_coupons_record", lambda c: c.list_partner_coupons_record(limit=1)),
    ("list_customers_balances_detail", lambda c: c.list_customers_balances_detail([demo.XINGHE])),
    ("list_partner_adjust_records", lambda c: c.list_partner_adjust_records(limit=1)),
    ("list_partner_balances", lambda c: c.list_partner_balances()),
]
READ_FAULTS = [
    pytest.param("http_500", {}, [500, 200], id="http_500"),
    pytest.param("throttle", {}, [429, 200], id="throttle"),
    pytest.param("drop_before_commit", {}, [None, 200], id="drop_before_commit"),
    pytest.param("commit_then_drop", {}, [200, 200], id="commit_then_drop"),
    pytest.param("latency", {"seconds": 1.0}, [200, 200], id="latency-beyond-timeout"),
]


@pytest.mark.parametrize(("operation", "action"), READS, ids=[r[0] for r in READS])
@pytest.mark.parametrize(("kind", "spec", "statuses"), READ_FAULTS)
def test_a_read_retries_every_fault(
    contract: Contract,
    operation: str,
    action: Action,
    kind: str,
    spec: dict[str, Any],
    statuses: list[int | None],
) -> None:
    contract.control.add_fault(operation, kind, **spec)
    client = contract.new_client(timeout=TIMEOUT)
    assert contract.run(action(client))
    assert contract.statuses(operation) == statuses
    assert client.stats()[operation].retries == 1
