"""The emulator's machinery on the coupon and cash routes: every fault on every new write, rate
limits, the call log, the control plane, the seed's validation and the state file."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator import Emulator, SeedError, VirtualClock

from . import demo
from .client import Api, Reply
from .conftest import DEMO_DOC
from .test_faults import run

D = Decimal
State = dict[str, Any]

#: Each new write: its operation, path, a body that succeeds on the demo seed, the id an
#: item_error fault names, and what a committed call changed.
WRITES: list[tuple[str, str, dict[str, Any], str, Callable[[State], Any]]] = [
    ("create_partner_coupons", "/v2/promotions/benefits/partner-coupons",
     {"quota_id": demo.QUOTA_COUPONS, "customer_ids": [demo.XINGHE], "face_value": "10.00"},
     demo.XINGHE, lambda s: s["quotas"][demo.QUOTA_COUPONS]["balance"]),
    ("reclaim_partner_coupons", "/v2/promotions/benefits/partner-coupons/reclaim",
     {"coupon_id": demo.COUPON_HUAXIA}, demo.COUPON_HUAXIA,
     lambda s: s["coupons"][demo.COUPON_HUAXIA]["status"]),
    ("update_customer_account_amount", "/v2/accounts/partner-accounts/adjust-amount",
     {"customer_id": demo.XINGHE, "amount": "10.00"}, demo.XINGHE,
     lambda s: s["customers"][demo.XINGHE]["amount"]),
    ("reclaim_to_partner_account", "/v2/accounts/partner-accounts/reclaim",
     {"customer_id": demo.XINGHE, "amount": "10.00"}, demo.XINGHE,
     lambda s: s["customers"][demo.XINGHE]["amount"]),
    ("update_indirect_partner_account", "/v2/accounts/partner-accounts/indirect-partner-adjust",
     {"indirect_partner_id": demo.TIANFU, "amount": "10.00"}, demo.TIANFU,
     lambda s: len(s["adjust_records"])),
    ("reclaim_indirect_partner_account", "/v2/accounts/partner-accounts/indirect-partner-reclaim",
     {"indirect_partner_id": demo.TIANFU, "amount": "10.00"}, demo.TIANFU,
     lambda s: len(s["adjust_records"])),
]  # fmt: skip
WRITE_IDS = [w[0] for w in WRITES]


def _send(api: Api, emu: Emulator, clock: VirtualClock, path: str, body: Any) -> Reply:
    return run(emu, clock, lambda c: api.arequest(c, "POST", path, body=body, timeout=5.0))


@pytest.mark.parametrize(("operation", "path", "body", "item", "effect"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize(
    ("kind", "spec", "committed"),
    [
        ("http_500", {}, False),
        ("throttle", {}, False),
        ("drop_before_commit", {}, False),
        ("commit_then_drop", {}, True),
        ("latency", {"seconds": 30.0}, True),
        ("item_error", {"error_code": "CBC.99009999"}, False),
    ],
    ids=["http_500", "throttle", "drop_before_commit", "commit_then_drop", "latency-timeout",
         "item_error"],
)  # fmt: skip
def test_every_fault_on_every_new_write(
    api: Api,
    emu: Emulator,
    clock: VirtualClock,
    operation: str,
    path: str,
    body: dict[str, Any],
    item: str,
    effect: Callable[[State], Any],
    kind: str,
    spec: dict[str, Any],
    committed: bool,
) -> None:
    before = effect(emu.state())
    fault: dict[str, Any] = {**spec, **({"ids": [item]} if kind == "item_error" else {})}
    emu.add_fault(operation, kind, **fault)
    reply: Reply | None = None
    if kind in ("drop_before_commit", "commit_then_drop"):
        with pytest.raises(httpx.RemoteProtocolError):
            _send(api, emu, clock, path, body)
    elif kind == "latency":
        with pytest.raises(httpx.ReadTimeout):
            _send(api, emu, clock, path, body)
    else:
        reply = _send(api, emu, clock, path, body)
    assert (effect(emu.state()) != before) is committed
    (logged,) = emu.call_log(operation)
    # A failed coupon item still leaves a "-1" record in §7.16; a failed transfer leaves nothing.
    failure_record = kind == "item_error" and "coupons" in operation
    assert (logged["fault"], logged["mutated"]) == ([kind], committed or failure_record)
    if kind == "http_500":
        assert reply is not None and (reply.status, reply.code) == (500, "CBC.0999")
    if kind == "throttle":
        assert reply is not None and (reply.status, reply.code) == (429, "APIG.0308")
    if kind == "item_error":
        assert reply is not None and reply.status == 200
        failed = (
            reply.json["error_details"][0]["error_code"]
            if operation == "create_partner_coupons"
            else reply.code
        )
        assert failed == "CBC.99009999"
    clock.advance(60)  # past any busy window (CBC.50000045) the latency left behind
    assert api.post(path, body).status in (200, 204)  # the fault is spent


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v2/accounts/partner-accounts/balances", None),
        ("GET", "/v2/promotions/benefits/partner-coupons", None),
        ("GET", "/v3/accounts/partner-accounts/adjust-records", None),
        ("POST", "/v2/accounts/customer-accounts/balances/batch-query",
         {"customer_infos": [{"customer_id": demo.XINGHE}]}),
        ("POST", "/v2/accounts/partner-accounts/adjust-amount",
         {"customer_id": demo.XINGHE, "amount": "1.00"}),
    ],
    ids=["7.23", "7.15", "7.20", "7.19", "7.17"],
)  # fmt: skip
def test_ten_per_second_per_api(api: Api, method: str, path: str, body: Any) -> None:
    statuses = [api.request(method, path, body=body).status for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert api.get("/v2/partners/issued-coupon-quotas").status == 200  # another API's bucket


def test_the_call_log_names_the_new_operations(api: Api, emu: Emulator) -> None:
    api.get("/v2/accounts/partner-accounts/balances", {"indirect_partner_id": demo.TIANFU})
    api.post("/v2/accounts/partner-accounts/adjust-amount", {"customer_id": demo.XINGHE,
                                                            "amount": "2.00"})  # fmt: skip
    read, write = emu.call_log()
    assert (read["operation"], read["status"], read["mutated"]) == (
        "list_partner_balances",
        200,
        False,
    )
    assert read["query"] == f"indirect_partner_id={demo.TIANFU}"
    assert (write["operation"], write["status"], write["mutated"]) == (
        "update_customer_account_amount",
        200,
        True,
    )
    assert write["caller"] == {
        "kind": "partner", "account_id": demo_domain(), "account_name": "demo-distributor",
        "role": "admin",
    }  # fmt: skip
    assert '"amount": "2.00"' in write["body"]


def demo_domain() -> str:
    return str(DEMO_DOC["partner"]["domain_id"])


# --- control plane -----------------------------------------------------------------------------
def test_control_plane_spends_and_funds(api: Api, emu: Emulator) -> None:
    def control(method: str, path: str, body: Any) -> Reply:
        return api.request(method, f"/_emulator/{path}", body=body)

    spent = control("POST", f"coupons/{demo.COUPON_HUAXIA}/spend", {"amount": "2000.00"})
    assert (spent.status, spent.json) == (200, {"coupon_id": demo.COUPON_HUAXIA, "balance": "0.00"})
    assert emu.state()["coupons"][demo.COUPON_HUAXIA]["status"] == 3  # used up
    paid = control("POST", f"customers/{demo.RUIXIN}/spend", {"amount": "1000.50"})
    assert paid.json == {"customer_id": demo.RUIXIN, "amount": "0.00", "debt_amount": "200.50"}
    account_id = next(
        a["account_id"]
        for a in emu.state()["accounts"].values()
        if a["account_type"] == 8 and a["owner"] is None
    )
    patched = control("PATCH", f"accounts/{account_id}", {"designated_amount": "800000.00"})
    assert patched.json["designated_amount"] == "800000.00"
    refused = api.post(
        "/v2/accounts/partner-accounts/adjust-amount", {"customer_id": demo.XINGHE, "amount": 1}
    )
    assert refused.code == "CBC.99005003"


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", f"coupons/{demo.COUPON_USED}/spend", {"amount": "1.00"}, 400),
        ("POST", f"coupons/{demo.COUPON_HUAXIA}/spend", {"amount": "2000.01"}, 400),
        ("POST", "coupons/nope/spend", {"amount": "1.00"}, 404),
        ("POST", f"customers/{demo.MINGYUAN}/spend", {"amount": "1.00"}, 400),
        ("POST", f"customers/{demo.XINGHE}/spend", {"amount": "1.001"}, 400),
        ("PATCH", "accounts/nope", {"amount": "1.00"}, 404),
        ("PATCH", "accounts/{allocatable}", {"designated_amount": "800000.01"}, 400),
        ("PATCH", "accounts/{allocatable}", {"amount": 5}, 400),
        ("PATCH", "accounts/{allocatable}", {"colour": "red"}, 400),
    ],
    ids=["spend-a-used-coupon", "spend-beyond-balance", "unknown-coupon", "referral-customer",
         "three-decimals", "unknown-account", "designated-beyond-amount", "not-a-string",
         "unknown-field"],
)  # fmt: skip
def test_control_plane_refusals(
    api: Api, emu: Emulator, method: str, path: str, body: Any, status: int
) -> None:
    allocatable = next(
        a["account_id"] for a in emu.state()["accounts"].values() if a["account_type"] == 8
    )
    before = emu.state()
    reply = api.request(method, "/_emulator/" + path.format(allocatable=allocatable), body=body)
    assert reply.status == status
    assert reply.code == f"EMULATOR.0{status}"
    after = emu.state()
    for part in ("accounts", "coupons", "customers"):
        assert after[part] == before[part]


# --- seed ------------------------------------------------------------------------------------
PARTNER = {"domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "account_name": "p",
           "xaccount_type": "x"}  # fmt: skip
CUSTOMERS = [
    {"customer_id": "c1", "account_name": "one", "association_type": "2"},
    {"customer_id": "c2", "account_name": "two", "association_type": "1"},
]
QUOTA = {"quota_id": "q1", "quota_value": "100.00", "effective_time": "2025-01-01T00:00:00Z",
         "expire_time": "2027-01-01T00:00:00Z"}  # fmt: skip
COUPON = {"coupon_id": "cp1", "customer_id": "c1", "quota_id": "q1", "face_value": "10.00"}
BAD_SEEDS = [
    ({"accounts": [{"account_id": "a", "account_type": 3, "amount": "1.00"}]},
     "accounts[0].account_type: 3 is not one of 1, 2, 5, 7, 8"),
    ({"accounts": [{"account_id": "a", "account_type": 8, "amount": "1.00",
                    "designated_amount": "2.00"}]},
     "accounts[0].designated_amount: greater than amount"),
    ({"accounts": [{"account_id": "a", "account_type": 8, "amount": "1.00"},
                   {"account_id": "b", "account_type": 8, "amount": "1.00"}]},
     "accounts[1].account_type: a second allocatable account (8)"),
    ({"accounts": [{"account_id": "a", "account_type": 1, "amount": "1.00",
                    "credit_amount": "5.00"}]},
     "accounts[0].credit_amount: only for a credit account (type 2)"),
    ({"accounts": [{"account_id": "a", "account_type": 1, "amount": 1.5}]},
     "accounts[0].amount: expected an amount"),
    ({"customers": [{**CUSTOMERS[1], "amount": "5.00"}]},
     "customer c2: amount/debt_amount are only for resale customers"),
    ({"coupons": [{**COUPON, "customer_id": "c2"}]},
     "coupons[0].customer_id: no resale customer 'c2'"),
    ({"coupons": [{**COUPON, "quota_id": "nope"}]}, "coupons[0].quota_id: no quota 'nope'"),
    ({"coupons": [{**COUPON, "balance": "10.01"}]},
     "coupons[0].balance: greater than face_value"),
    ({"coupons": [{**COUPON, "status": 5, "balance": "1.00"}]},
     "coupons[0].balance: a coupon in status 5 holds 0.00"),
    ({"coupons": [COUPON, COUPON]}, "coupons[1]: duplicate coupon_id 'cp1'"),
    ({"coupons": [COUPON], "coupon_records": [{"operation_type": "1", "coupon_id": "nope",
      "operation_amount": "1.00", "operation_time": "2025-01-01T00:00:00Z"}]},
     "coupon_records[0].coupon_id: no coupon 'nope'"),
    ({"adjust_records": [{"trans_id": "t", "customer_id": "c2",
      "operation_type": "SOURCE_OPERATION_BEADJUST", "amount": "1.00",
      "operation_time": "2025-01-01T00:00:00Z", "indirect_partner_id": "r"}]},
     "adjust_records[0].indirect_partner_id: no reseller 'r'"),
    ({"adjust_records": [{"trans_id": "t", "customer_id": "x",
      "operation_type": "SOURCE_OPERATION_BEADJUST", "amount": "1.00",
      "operation_time": "2025-01-01T00:00:00Z"}]},
     "adjust_records[0].customer_id: no customer or reseller of the partner"),
    ({"adjust_records": [{"trans_id": "t", "customer_id": "c1", "operation_type": "ADJUST",
      "amount": "1.00", "operation_time": "2025-01-01T00:00:00Z"}]},
     "adjust_records[0].operation_type: 'ADJUST' is not one of"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "problem"), BAD_SEEDS, ids=[p for _, p in BAD_SEEDS])
def test_bad_money_seeds_name_the_entry(extra: dict[str, Any], problem: str) -> None:
    seed = {"partner": PARTNER, "customers": CUSTOMERS, "quotas": [QUOTA], **extra}
    with pytest.raises(SeedError) as info:
        Emulator(clock=VirtualClock(), seed=seed)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_seeded_coupons_get_issue_records_unless_records_are_given() -> None:
    seed = {"partner": PARTNER, "customers": CUSTOMERS, "quotas": [QUOTA], "coupons": [COUPON]}
    state = Emulator(clock=VirtualClock(), seed=seed).state()
    (record,) = state["coupon_records"]
    assert (record["operation_type"], record["operation_amount"], record["coupon_id"]) == (
        "1",
        "10.00",
        "cp1",
    )
    coupon = state["coupons"]["cp1"]
    assert (coupon["status"], coupon["balance"], coupon["expire_time"]) == (
        2,
        "10.00",
        "2027-01-01T00:00:00Z",  # the quota's
    )


def test_the_demo_seed_adds_up() -> None:
    state = Emulator(clock=VirtualClock(), seed=DEMO_DOC)._store.state
    quota = state.quotas[demo.QUOTA_COUPONS]
    issued = [r for r in state.coupon_records if r.operation_type == "1"]
    returned = [r for r in state.coupon_records if r.operation_type in ("2", "4")]
    assert (
        quota.quota_value
        - sum(r.operation_amount for r in issued)
        + sum(r.operation_amount for r in returned)
        == quota.balance
        == D("90050.00")
    )
    assert {c.status for c in state.coupons.values()} == {2, 3, 4, 5}
    assert {a.account_type for a in state.accounts.values() if a.owner is None} == {1, 2, 5, 7, 8}
    assert all(
        any(a.owner == rid and a.account_type == 8 for a in state.accounts.values())
        for rid in state.resellers
    )


# --- state file --------------------------------------------------------------------------------
def test_coupons_cash_and_records_survive_a_restart(tmp_path: Path, clock: VirtualClock) -> None:
    path = tmp_path / "state.json"
    first = Emulator(clock=clock, state_file=path, seed=DEMO_DOC)
    api = Api(first)
    api.post(
        "/v2/promotions/benefits/partner-coupons",
        {"quota_id": demo.QUOTA_COUPONS, "customer_ids": [demo.HAINA], "face_value": "12.34"},
    )
    api.post("/v2/accounts/partner-accounts/adjust-amount",
             {"customer_id": demo.HAINA, "amount": "56.78"})  # fmt: skip
    first.spend_coupon(demo.COUPON_XINGHE, "0.01")
    second = Emulator(clock=clock, state_file=path)
    assert second.state() == first.state()
    restored = second._store.state
    assert restored.customers[demo.HAINA].amount == D("20056.78")
    assert restored.coupons[demo.COUPON_XINGHE].balance == D("3199.99")
    assert isinstance(restored.coupon_records[-1].operation_amount, Decimal)
    assert restored.adjust_records[-1].amount == D("56.78")
