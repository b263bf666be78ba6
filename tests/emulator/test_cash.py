"""§7.17-§7.23: cash between the partner's allocatable account, resale customers and resellers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from reconciler.emulator import DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, Emulator, VirtualClock

from . import demo
from .client import Api

D = Decimal
FUND = "/v2/accounts/partner-accounts/adjust-amount"
RETRIEVE = "/v2/accounts/partner-accounts/reclaim"
BALANCES = "/v2/accounts/customer-accounts/balances/batch-query"
LEDGER = "/v3/accounts/partner-accounts/adjust-records"
FUND_RESELLER = "/v2/accounts/partner-accounts/indirect-partner-adjust"
RETRIEVE_RESELLER = "/v2/accounts/partner-accounts/indirect-partner-reclaim"
ACCOUNTS = "/v2/accounts/partner-accounts/balances"
NOW = "2026-01-01T00:00:00Z"


def allocatable(emu: Emulator, owner: str | None = None) -> Decimal:
    (account,) = [
        a for a in emu._store.state.accounts.values() if a.owner == owner and a.account_type == 8
    ]
    return account.amount


def cash(emu: Emulator, customer_id: str) -> Decimal:
    amount: Decimal = emu._store.state.customers[customer_id].amount
    return amount


def total(emu: Emulator) -> Decimal:
    """Every allocatable account plus every customer's cash: transfers never change it."""
    state = emu._store.state
    accounts = sum((a.amount for a in state.accounts.values() if a.account_type == 8), D(0))
    return accounts + sum((c.amount for c in state.customers.values()), D(0))


def ledger(api: Api, **query: Any) -> list[dict[str, Any]]:
    reply = api.get(LEDGER, {"limit": 100, **query})
    assert reply.status == 200, reply.body
    assert reply.json["total_count"] == len(reply.json["records"])
    found: list[dict[str, Any]] = reply.json["records"]
    return found


# --- list_partner_balances ---------------------------------------------------------------------
def test_partner_balances(api: Api) -> None:
    reply = api.get(ACCOUNTS)
    assert reply.status == 200
    accounts = reply.json["account_balances"]
    assert [(a["account_type"], a["amount"]) for a in accounts] == [
        (1, D("52000.00")), (2, D("0.00")), (5, D("1200.00")), (7, D("20000.00")),
        (8, D("800000.00")),
    ]  # fmt: skip
    credit, allocatable_account = accounts[1], accounts[4]
    assert credit["credit_amount"] == D("100000.00")
    assert allocatable_account["designated_amount"] == D(demo.DESIGNATED)
    assert set(allocatable_account) == {
        "account_id", "account_type", "amount", "currency", "designated_amount", "measure_id",
    }  # fmt: skip
    assert b'"amount":800000.00' in reply.body  # a bare number with two decimals


def test_a_resellers_balances_and_refusals(api: Api) -> None:
    reply = api.get(ACCOUNTS, {"indirect_partner_id": demo.QINLING})
    accounts = reply.json["account_balances"]
    assert [(a["account_type"], a["amount"], a["designated_amount"]) for a in accounts] == [
        (8, D("23800.00"), D("5000.00"))
    ]
    assert api.get(ACCOUNTS, {"indirect_partner_id": "0" * 32}).code == "CBC.99000037"


# --- update_customer_account_amount / reclaim_to_partner_account -------------------------------
def test_fund_a_customer_from_the_allocatable_account(api: Api, emu: Emulator) -> None:
    before = total(emu)
    reply = api.post(FUND, {"customer_id": demo.XINGHE, "amount": D("1500.25")})
    assert reply.status == 200
    assert set(reply.json) == {"transfer_id"}
    assert allocatable(emu) == D("798499.75")
    assert cash(emu, demo.XINGHE) == D("13500.25")
    assert total(emu) == before
    (record,) = ledger(api, trans_id=reply.json["transfer_id"])
    assert record == {
        "customer_id": demo.XINGHE, "customer_name": "Hangzhou Xinghe Network Technology Co., Ltd.",
        "operation_type": "SOURCE_OPERATION_BEADJUST", "amount": "1500.25", "currency": "CNY",
        "operation_time": NOW, "measure_id": 1, "trans_id": reply.json["transfer_id"],
    }  # fmt: skip
    assert b'"amount":"1500.25"' in api.get(LEDGER, {"trans_id": record["trans_id"]}).body


def test_reclaim_from_a_customer(api: Api, emu: Emulator) -> None:
    reply = api.post(RETRIEVE, {"customer_id": demo.XINGHE, "amount": "12000.00"})
    assert (reply.status, set(reply.json)) == (200, {"trans_id"})
    assert (cash(emu, demo.XINGHE), allocatable(emu)) == (D("0.00"), D("812000.00"))
    (record,) = ledger(api, trans_id=reply.json["trans_id"])
    assert (record["operation_type"], record["amount"]) == (
        "SOURCE_OPERATION_BERETRIEVE",
        "12000.00",
    )
    over = api.post(RETRIEVE, {"customer_id": demo.XINGHE, "amount": "0.01"})
    assert (over.status, over.code) == (400, "CBC.99005003")


def test_the_designated_amount_never_moves(api: Api, emu: Emulator) -> None:
    movable = D(demo.ALLOCATABLE) - D(demo.DESIGNATED)
    over = api.post(FUND, {"customer_id": demo.HUAXIA, "amount": str(movable + D("0.01"))})
    assert (over.status, over.code) == (400, "CBC.99005003")
    assert "750000.00" in over.json["error_msg"]
    assert api.post(FUND, {"customer_id": demo.HUAXIA, "amount": str(movable)}).status == 200
    assert allocatable(emu) == D(demo.DESIGNATED)
    emu.set_account(_allocatable_id(emu), designated_amount="0.00")
    assert api.post(FUND, {"customer_id": demo.HUAXIA, "amount": demo.DESIGNATED}).status == 200
    assert allocatable(emu) == D("0.00")


def _allocatable_id(emu: Emulator, owner: str | None = None) -> str:
    return next(
        a.account_id
        for a in emu._store.state.accounts.values()
        if a.owner == owner and a.account_type == 8
    )


CUSTOMER_REFUSALS = [
    pytest.param({"customer_id": demo.MINGYUAN}, "CBC.0100", id="referral-customer"),
    pytest.param({"customer_id": "0" * 32}, "CBC.0100", id="unknown-customer"),
    pytest.param({"customer_id": demo.SHU_BROCADE}, "CBC.0100", id="a-resellers-customer"),
    pytest.param({"customer_id": None}, "CBC.0100", id="no-customer"),
    pytest.param({"customer_id": "c" * 65}, "CBC.0100", id="long-customer"),
    pytest.param({"amount": "0"}, "CBC.0100", id="zero"),
    pytest.param({"amount": "-1.00"}, "CBC.0100", id="negative"),
    pytest.param({"amount": "1.001"}, "CBC.0100", id="three-decimals"),
    pytest.param({"amount": None}, "CBC.0100", id="no-amount"),
    pytest.param({"indirect_partner_id": ""}, "CBC.0100", id="empty-reseller"),
    pytest.param({"indirect_partner_id": "0" * 32}, "CBC.99000037", id="not-our-reseller"),
    pytest.param({"indirect_partner_id": demo.TIANFU}, "CBC.0100", id="ours-not-theirs"),
]


@pytest.mark.parametrize("path", [FUND, RETRIEVE], ids=["fund", "reclaim"])
@pytest.mark.parametrize(("extra", "code"), CUSTOMER_REFUSALS)
def test_customer_transfer_refusals_move_nothing(
    api: Api, emu: Emulator, path: str, extra: dict[str, Any], code: str
) -> None:
    before = emu.state()
    reply = api.post(path, {"customer_id": demo.XINGHE, "amount": "10.00", **extra})
    assert (reply.status, reply.code) == (400, code)
    if code == "CBC.0100":
        named = "customer_id" if extra.get("indirect_partner_id") else next(iter(extra))
        assert named in reply.json["error_msg"]
    after = emu.state()
    assert (after["accounts"], after["customers"], after["adjust_records"]) == (
        before["accounts"],
        before["customers"],
        before["adjust_records"],
    )


def test_acting_for_a_resellers_customer(api: Api, emu: Emulator) -> None:
    body = {"customer_id": demo.SHU_BROCADE, "indirect_partner_id": demo.TIANFU}
    reply = api.post(FUND, {**body, "amount": "57000.00"})
    assert reply.status == 200
    assert (allocatable(emu, demo.TIANFU), cash(emu, demo.SHU_BROCADE)) == (
        D("0.00"),
        D("60000.00"),
    )
    assert allocatable(emu) == D(demo.ALLOCATABLE)  # the distributor's own is untouched
    assert api.post(FUND, {**body, "amount": "0.01"}).code == "CBC.99005003"
    assert api.post(RETRIEVE, {**body, "amount": "100.00"}).status == 200
    assert allocatable(emu, demo.TIANFU) == D("100.00")
    theirs = ledger(api, indirect_partner_id=demo.TIANFU)
    assert [(r["operation_type"], r["amount"]) for r in theirs] == [
        ("SOURCE_OPERATION_BEADJUST", "3000.00"),  # seeded
        ("SOURCE_OPERATION_BEADJUST", "57000.00"),
        ("SOURCE_OPERATION_BERETRIEVE", "100.00"),
    ]
    assert demo.SHU_BROCADE not in {r["customer_id"] for r in ledger(api)}  # not our ledger


# --- update_indirect_partner_account / reclaim_indirect_partner_account ------------------------
def test_fund_and_reclaim_a_reseller(api: Api, emu: Emulator) -> None:
    before = total(emu)
    funded = api.post(FUND_RESELLER, {"indirect_partner_id": demo.PENGCHENG, "amount": "8000.00"})
    assert (funded.status, set(funded.json)) == (200, {"transfer_id"})
    assert (allocatable(emu), allocatable(emu, demo.PENGCHENG)) == (D("792000.00"), D("20000.00"))
    back = api.post(
        RETRIEVE_RESELLER, {"indirect_partner_id": demo.PENGCHENG, "amount": "20000.00"}
    )
    assert (back.status, set(back.json)) == (200, {"trans_id"})
    assert allocatable(emu, demo.PENGCHENG) == D("0.00")
    assert total(emu) == before
    mine = ledger(api, customer_id=demo.PENGCHENG)
    assert [(r["operation_type"], r["amount"], r["customer_name"]) for r in mine] == [
        ("SOURCE_OPERATION_BEADJUST", "12000.00", "Shenzhen Pengcheng Cloud Technology Co., Ltd."),
        ("SOURCE_OPERATION_BEADJUST", "8000.00", "Shenzhen Pengcheng Cloud Technology Co., Ltd."),
        (
            "SOURCE_OPERATION_BERETRIEVE",
            "20000.00",
            "Shenzhen Pengcheng Cloud Technology Co., Ltd.",
        ),
    ]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        (FUND_RESELLER, {"indirect_partner_id": "0" * 32}, "CBC.99000037"),
        (FUND_RESELLER, {"amount": "750000.01"}, "CBC.99005003"),
        (FUND_RESELLER, {"indirect_partner_id": None}, "CBC.0100"),
        (FUND_RESELLER, {"amount": 0}, "CBC.0100"),
        (RETRIEVE_RESELLER, {"indirect_partner_id": "0" * 32}, "CBC.99000037"),
        (RETRIEVE_RESELLER, {"amount": "18800.01"}, "CBC.99005003"),  # 23800 less 5000 designated
        (RETRIEVE_RESELLER, {"indirect_partner_id": "r" * 65}, "CBC.0100"),
        (RETRIEVE_RESELLER, {"amount": "1.234"}, "CBC.0100"),
    ],
    ids=[
        "fund-not-ours", "fund-beyond-allocatable", "fund-no-reseller", "fund-zero",
        "reclaim-not-ours", "reclaim-beyond-balance", "reclaim-long-id", "reclaim-3-decimals",
    ],
)  # fmt: skip
def test_reseller_transfer_refusals(
    api: Api, emu: Emulator, path: str, body: dict[str, Any], code: str
) -> None:
    before = emu.state()["accounts"]
    reply = api.post(path, {"indirect_partner_id": demo.QINLING, "amount": "1.00", **body})
    assert (reply.status, reply.code) == (400, code)
    assert emu.state()["accounts"] == before


def test_reseller_transfers_are_for_distributors_only() -> None:
    seed = {
        "partner": {"domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "account_name": "sp",
                    "xaccount_type": "x", "partner_type": "solution_provider"},
        "accounts": [{"account_id": "a8", "account_type": 8, "amount": "100.00"}],
        "customers": [{"customer_id": "c1", "account_name": "one", "association_type": "2"}],
    }  # fmt: skip
    api = Api(Emulator(clock=VirtualClock(), seed=seed))
    assert api.post(FUND_RESELLER, {"indirect_partner_id": "r", "amount": "1.00"}).code == (
        "CBC.0151"
    )
    assert api.post(FUND, {"customer_id": "c1", "amount": "100.00"}).status == 200
    assert api.get(LEDGER, {"indirect_partner_id": "anyone"}).status == 200  # ignored (§7.20)


# --- list_customers_balances_detail ------------------------------------------------------------
def test_customer_balances_drop_what_is_not_a_resale_customer(api: Api) -> None:
    asked = [demo.LINGYUN, demo.MINGYUAN, "0" * 32, demo.SHU_BROCADE, demo.XINGHE, demo.LINGYUN]
    reply = api.post(BALANCES, {"customer_infos": [{"customer_id": c} for c in asked]})
    assert reply.json == {
        "customer_balances": [
            {"customer_id": demo.LINGYUN, "debt_amount": D("150.00"), "amount": D("0.00"),
             "currency": "CNY", "measure_id": 1},
            {"customer_id": demo.XINGHE, "debt_amount": D("0.00"), "amount": D("12000.00"),
             "currency": "CNY", "measure_id": 1},
        ]
    }  # fmt: skip
    theirs = api.post(
        BALANCES,
        {"customer_infos": [{"customer_id": demo.SHU_BROCADE}], "indirect_partner_id": demo.TIANFU},
    )
    assert [(b["customer_id"], b["amount"]) for b in theirs.json["customer_balances"]] == [
        (demo.SHU_BROCADE, D("3000.00"))
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "CBC.0100"),
        ({"customer_infos": []}, "CBC.0100"),
        ({"customer_infos": [{"customer": "x"}]}, "CBC.0100"),
        ({"customer_infos": ["x"]}, "CBC.0100"),
        ({"customer_infos": [{"customer_id": f"c{n}"} for n in range(101)]}, "CBC.0100"),
        ({"customer_infos": [{"customer_id": "c"}], "indirect_partner_id": "0" * 32},
         "CBC.99000037"),
    ],
    ids=["missing", "empty", "no-customer-id", "not-an-object", "101", "not-our-reseller"],
)  # fmt: skip
def test_customer_balances_refusals(api: Api, body: dict[str, Any], code: str) -> None:
    assert api.post(BALANCES, body).code == code


def test_spending_cash_runs_into_debt(api: Api, emu: Emulator) -> None:
    emu.spend_cash(demo.HUAXIA, "3600.00")
    reply = api.post(BALANCES, {"customer_infos": [{"customer_id": demo.HUAXIA}]})
    (balance,) = reply.json["customer_balances"]
    assert (balance["amount"], balance["debt_amount"]) == (D("0.00"), D("100.00"))


# --- list_partner_adjust_records ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({}, demo.ADJUST_RECORDS),
        ({"customer_id": demo.XINGHE}, 3),
        ({"operation_type": "SOURCE_OPERATION_BERETRIEVE"}, 1),
        ({"operation_type": "SOURCE_OPERATION_BEUNBIND"}, 0),
        ({"trans_id": "2025120101000000000108"}, 1),
        ({"operation_time_begin": "2025-11-01T03:00:00Z"}, 3),  # strict
        ({"operation_time_end": "2025-09-05T03:00:00Z"}, 2),
        ({"indirect_partner_id": demo.QINLING}, 1),
        ({"indirect_partner_id": demo.PENGCHENG}, 0),
    ],
    ids=["all", "customer", "retrieve", "unbind", "trans-id", "after", "before",
         "a-resellers-ledger", "an-empty-ledger"],
)  # fmt: skip
def test_ledger_filters(api: Api, query: dict[str, Any], count: int) -> None:
    assert len(ledger(api, **query)) == count


@pytest.mark.parametrize(
    "query",
    [{"limit": 101}, {"operation_type": "ADJUST"}, {"customer_id": ""},
     {"operation_time_end": ""}, {"indirect_partner_id": "0" * 32}],
    ids=["limit-101", "bad-type", "empty-customer", "empty-time", "not-our-reseller"],
)  # fmt: skip
def test_ledger_refusals(api: Api, query: dict[str, Any]) -> None:
    reply = api.get(LEDGER, query)
    assert reply.status == 400
    assert reply.code == ("CBC.99000037" if "indirect_partner_id" in query else "CBC.0100")


def test_the_ledger_pages(api: Api) -> None:
    first = api.get(LEDGER, {"limit": 3})
    second = api.get(LEDGER, {"limit": 3, "offset": 3})
    assert first.json["total_count"] == second.json["total_count"] == demo.ADJUST_RECORDS
    ids = [r["trans_id"] for r in first.json["records"] + second.json["records"]]
    assert ids == [r["trans_id"] for r in ledger(api)][:6]


# --- who may call ------------------------------------------------------------------------------
def test_readonly_operator_cannot_move_cash(emu: Emulator) -> None:
    readonly = Api(emu, DEFAULT_READONLY_AK, DEFAULT_READONLY_SK)
    writes = [
        (FUND, {"customer_id": demo.XINGHE, "amount": "1.00"}),
        (RETRIEVE, {"customer_id": demo.XINGHE, "amount": "1.00"}),
        (FUND_RESELLER, {"indirect_partner_id": demo.TIANFU, "amount": "1.00"}),
        (RETRIEVE_RESELLER, {"indirect_partner_id": demo.TIANFU, "amount": "1.00"}),
    ]
    assert [readonly.post(path, body).code for path, body in writes] == ["CBC.0151"] * 4
    assert readonly.get(ACCOUNTS).status == 200
    assert readonly.get(LEDGER).status == 200
    assert readonly.post(BALANCES, {"customer_infos": [{"customer_id": demo.XINGHE}]}).status == 200
    assert len(emu.state()["adjust_records"]) == demo.ADJUST_RECORDS + 2  # + the resellers' own
