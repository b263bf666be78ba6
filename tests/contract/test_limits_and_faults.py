"""Rate limits (§4) and every emulator fault, against the client's retry table, in both modes.

================  =====================  ==================  =================================
fault             read                   set-state write      money write (issue, reclaim)
================  =====================  ==================  =================================
throttle          retried                retried              retried (rejected before execution)
http_500          retried                retried              OutcomeUnknownError, one call
drop_before_...   retried                -                    OutcomeUnknownError, not committed
commit_then_drop  retried                retried              OutcomeUnknownError, committed
latency>timeout   retried/TransportError -                    OutcomeUnknownError, committed
item_error        -                      -                    per-item failure (test_writes.py)
================  =====================  ==================  =================================
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, Page
from reconciler.bss.http11 import Http11Transport
from reconciler.errors import (
    OutcomeUnknownError,
    ServerError,
    ThrottledError,
    TransportError,
)

from .harness import Contract
from .seeded import (
    CHILD_QINLING,
    CUSTOMER_COUNT,
    JINQIAO,
    JQ_TMS_APP,
    QUOTA_MAIN,
    TIANFU,
    XINGHE,
    XINGHE_WEB_01,
)

Action = Callable[[BssClient], Awaitable[Any]]
AMOUNT = Decimal("777.77")
SEEDED_RECORDS = 5
THROTTLE_MESSAGE = "policy user over ratelimit,limit:10,time:1 second"
TIMEOUT = 0.25  # the client's timeout in the latency cases
LATE = {"seconds": 1.0}  # an injected latency beyond it


# --- rate limiting ----------------------------------------------------------------------------
def test_pacer_keeps_the_emulator_limiter_quiet(contract: Contract) -> None:
    """Many concurrent calls: two partner reads, and a customer call for more customers than
    the IAM bucket holds. No 429 anywhere at 10/s per API, and the APIs run side by side."""
    n = 40 if contract.inprocess else 12
    customers = [
        c["customer_id"]
        for c in contract.control.state()["customers"].values()
        if c["agency_granted"] and c["indirect_partner_id"] is None
    ][:11]
    assert len(customers) == 11  # one more than the IAM bucket's 10 tokens

    async def burst(c: BssClient) -> tuple[list[Any], float]:
        start = contract.elapsed()
        results = await asyncio.gather(
            *(c.list_sub_customers(limit=1) for _ in range(n)),
            *(c.list_issued_coupon_quotas(limit=1) for _ in range(n)),
            *(c.set_resources_renew_config(cid, "DEDUCTION_DATE", "5") for cid in customers),
        )
        return list(results), contract.elapsed() - start

    results, took = contract.call(burst)
    assert [p.total for p in results[: 2 * n]] == [CUSTOMER_COUNT] * n + [4] * n
    stats = contract.client.stats()
    calls = {
        "list_sub_customers": n,
        "list_issued_coupon_quotas": n,
        "iam.create_temporary_access_key_by_agency": len(customers),
        "set_resources_renew_config": len(customers),
    }
    assert {op: (s.calls, s.throttled) for op, s in stats.items()} == {
        op: (count, 0) for op, count in calls.items()
    }
    logged = [(c["operation"], c["status"]) for c in contract.control.calls()]
    assert sorted(set(logged)) == [
        ("iam_create_temporary_access_key", 201),
        ("list_issued_coupon_quotas", 200),
        ("list_sub_customers", 200),
        ("set_resources_renew_config", 200),
    ]
    assert len(logged) == sum(calls.values())
    state = contract.control.state()["customers"]
    assert all(state[cid]["renew_config"] == {"DEDUCTION_DATE": "5"} for cid in customers)
    assert took >= (n - 1) / 10
    if contract.inprocess:  # virtual time is exact: all APIs in the time of the longest
        assert took < n / 10


def test_without_pacing_the_emulator_throttles(contract: Contract) -> None:
    """The control experiment: a client paced at 1000/s with one attempt meets 429 APIG.0308."""
    options: dict[str, Any] = {
        "rates": {"list_sub_customers": 1000.0},
        "max_attempts": 1,
        "read_patience": 0,  # no second attempt: each 429 shows
    }
    if not contract.inprocess:
        # A few kept-alive connections, so the burst never queues on the server's listen backlog.
        options["transport"] = Http11Transport(max_connections=4)
    client = contract.new_client(**options)

    async def burst() -> list[Any]:
        calls = (client.list_sub_customers(limit=1) for _ in range(20))
        return await asyncio.gather(*calls, return_exceptions=True)

    results = contract.run(burst())
    throttled = [r for r in results if isinstance(r, ThrottledError)]
    assert all(isinstance(r, (Page, ThrottledError)) for r in results)
    if contract.inprocess:  # 20 calls within 19 virtual ms: the bucket's 10 tokens, no refill
        assert len(throttled) == 10
    else:  # real time refills a little while the 20 calls run
        assert 1 <= len(throttled) <= 10
    for error in throttled:
        assert (error.status, error.error_code) == (429, "APIG.0308")
        assert THROTTLE_MESSAGE in error.error_msg
    assert contract.statuses("list_sub_customers").count(429) == len(throttled)
    assert client.stats()["list_sub_customers"].throttled == len(throttled)


THROTTLE_BURSTS = [
    pytest.param(lambda c: c.list_sub_customers(limit=1), "list_sub_customers", 2, 200,
                 id="7.1-read"),
    pytest.param(lambda c: c.list_issued_coupon_quotas(limit=1), "list_issued_coupon_quotas", 2,
                 200, id="7.11-read"),
    pytest.param(lambda c: c.list_customer_resources(XINGHE, limit=1),
                 "list_pay_per_use_customer_resources", 2, 200, id="7.3-read"),
    pytest.param(lambda c: c.auto_renewal_resources(JINQIAO, JQ_TMS_APP),
                 "auto_renewal_resources", 2, 204, id="7.4-set-state"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "operation", "burst", "ok"), THROTTLE_BURSTS)
def test_a_throttle_burst_is_retried(
    contract: Contract, action: Action, operation: str, burst: int, ok: int
) -> None:
    contract.control.add_fault(operation, "throttle", count=burst)
    contract.call(action)
    assert contract.statuses(operation) == [429] * burst + [ok]
    stats = contract.client.stats()[operation]
    assert (stats.calls, stats.throttled, stats.retries) == (burst + 1, burst, burst)


@pytest.mark.parametrize("burst", [1, 3], ids=["one-429", "three-429s"])
def test_a_throttled_issue_is_retried_and_committed_once(contract: Contract, burst: int) -> None:
    """429 is answered before execution, so even a money write may be sent again."""
    contract.control.add_fault("update_coupon_quotas", "throttle", count=burst)
    result = contract.call(lambda c: c.update_coupon_quotas(QUOTA_MAIN, [TIANFU], AMOUNT))
    assert list(result.successes) == [TIANFU]
    assert contract.statuses("update_coupon_quotas") == [429] * burst + [200]
    state = contract.control.state()
    issued = [r for r in state["records"] if r["amount"] == str(AMOUNT)]
    assert [(r["operation_type"], r["result"]) for r in issued] == [("10", "0")]
    assert Decimal(state["quotas"][QUOTA_MAIN]["balance"]) == Decimal("445000.00") - AMOUNT


# --- faults on money writes: never retried once they may have been sent -----------------------
def _issue(c: BssClient) -> Awaitable[Any]:
    return c.update_coupon_quotas(QUOTA_MAIN, [TIANFU], AMOUNT)


def _reclaim(c: BssClient) -> Awaitable[Any]:
    return c.reclaim_coupon_quotas([CHILD_QINLING])


def _committed(contract: Contract, operation: str) -> bool:
    state = contract.control.state()
    new = state["records"][SEEDED_RECORDS:]
    if operation == "update_coupon_quotas":
        changed = bool(state["quotas"][QUOTA_MAIN]["balance"] != "445000.00")
        assert changed == (len(new) == 1)
        return changed
    reclaimed = bool(state["quotas"][CHILD_QINLING]["quota_status"] == 6)
    assert reclaimed == (len(new) == 1)
    return reclaimed


MONEY_FAULTS = [
    pytest.param(_issue, "update_coupon_quotas", "commit_then_drop", {}, 200, True,
                 id="issue-commit_then_drop"),
    pytest.param(_issue, "update_coupon_quotas", "drop_before_commit", {}, None, False,
                 id="issue-drop_before_commit"),
    pytest.param(_issue, "update_coupon_quotas", "http_500", {}, 500, False,
                 id="issue-http_500"),
    pytest.param(_issue, "update_coupon_quotas", "latency", LATE, 200, True,
                 id="issue-latency-beyond-timeout"),
    pytest.param(_reclaim, "reclaim_coupon_quotas", "commit_then_drop", {}, 200, True,
                 id="reclaim-commit_then_drop"),
    pytest.param(_reclaim, "reclaim_coupon_quotas", "http_500", {}, 500, False,
                 id="reclaim-http_500"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "operation", "kind", "spec", "logged_status", "committed"), MONEY_FAULTS
)
def test_money_write_fault_is_outcome_unknown(
    contract: Contract,
    action: Action,
    operation: str,
    kind: str,
    spec: dict[str, Any],
    logged_status: int | None,
    committed: bool,
) -> None:
    contract.control.add_fault(operation, kind, **spec)
    client = contract.new_client(timeout=TIMEOUT)
    with pytest.raises(OutcomeUnknownError) as info:
        contract.run(action(client))
    assert "outcome unknown" in str(info.value)
    assert str(info.value).startswith("POST /v2/partners/coupon-quotas/indirect-partner-")
    (logged,) = contract.control.calls(operation)  # exactly one call: never re-sent
    assert (logged["status"], logged["fault"]) == (logged_status, [kind])
    stats = client.stats()[operation]
    assert (stats.calls, stats.retries) == (1, 0)
    assert _committed(contract, operation) is committed


# --- faults on reads and set-state writes: retried ---------------------------------------------
READ_FAULTS = [
    pytest.param("http_500", {}, [500, 200], id="http_500"),
    pytest.param("drop_before_commit", {}, [None, 200], id="drop_before_commit"),
    pytest.param("commit_then_drop", {}, [200, 200], id="commit_then_drop"),
    pytest.param("latency", LATE, [200, 200], id="latency-beyond-timeout"),
    pytest.param("latency", {"seconds": 0.05}, [200], id="latency-within-timeout"),
]


@pytest.mark.parametrize(("kind", "spec", "statuses"), READ_FAULTS)
def test_read_fault_is_retried(
    contract: Contract, kind: str, spec: dict[str, Any], statuses: list[int | None]
) -> None:
    contract.control.add_fault("list_sub_customers", kind, **spec)
    client = contract.new_client(timeout=TIMEOUT)
    page = contract.run(client.list_sub_customers(customer_id=XINGHE))
    assert [c.customer_id for c in page.items] == [XINGHE]
    assert contract.statuses("list_sub_customers") == statuses
    assert client.stats()["list_sub_customers"].retries == len(statuses) - 1


EXHAUSTED = [
    pytest.param("latency", LATE, TransportError, "ReadTimeout", id="latency"),
    pytest.param("drop_before_commit", {}, TransportError, "RemoteProtocolError",
                 id="drop_before_commit"),
    pytest.param("http_500", {}, ServerError, "500 CBC.0999", id="http_500"),
    pytest.param("throttle", {}, ThrottledError, "429 APIG.0308", id="throttle"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "spec", "error", "fragment"), EXHAUSTED)
def test_read_retries_run_out(
    contract: Contract, kind: str, spec: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    contract.control.add_fault("list_sub_customers", kind, count=2, **spec)
    client = contract.new_client(timeout=TIMEOUT, max_attempts=2, read_patience=0)
    with pytest.raises(error) as info:
        contract.run(client.list_sub_customers(limit=1))
    assert type(info.value) is error  # a read never becomes OutcomeUnknownError
    assert fragment in str(info.value)
    assert len(contract.control.calls("list_sub_customers")) == 2
    if error is TransportError:
        assert str(info.value).endswith("(retries exhausted)")


def test_set_state_write_survives_a_lost_answer(contract: Contract) -> None:
    """Cancel is re-sent after its answer is lost; the retry finds auto-renew already off."""
    contract.control.add_fault("cancel_auto_renewal_resources", "commit_then_drop")
    done = contract.call(lambda c: c.cancel_auto_renewal_resources(XINGHE, XINGHE_WEB_01))
    assert done is False  # "already off": true by the time the client could tell
    logged = contract.control.calls("cancel_auto_renewal_resources")
    assert [(c["status"], c["error_code"], c["drop"]) for c in logged] == [
        (204, None, "after_commit"),
        (400, "CBC.99003605", None),
    ]
    assert contract.control.state()["resources"][XINGHE_WEB_01]["expire_policy"] == 0


def test_set_state_write_http_500_is_retried(contract: Contract) -> None:
    contract.control.add_fault("auto_renewal_resources", "http_500", count=2)
    contract.call(lambda c: c.auto_renewal_resources(JINQIAO, JQ_TMS_APP))
    assert contract.statuses("auto_renewal_resources") == [500, 500, 204]
    assert contract.control.state()["resources"][JQ_TMS_APP]["expire_policy"] == 3
