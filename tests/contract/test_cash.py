"""Cash through the client (§7.17-§7.23), in both modes: the partner's and resellers' accounts,
transfers to and from resale customers and resellers, customers' balances and the ledger."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import AccountBalance, AdjustRecord, BssClient, TransferResult, allocatable
from reconciler.errors import ApiError, AuthError
from tests.emulator import demo

from .harness import Contract, paging, readonly_credentials

D = Decimal
MOVABLE = D(demo.ALLOCATABLE) - D(demo.DESIGNATED)  # 750000.00


def partner_allocatable(c: BssClient, reseller: str | None = None) -> Any:
    async def read() -> AccountBalance | None:
        return allocatable(await c.list_partner_balances(indirect_partner_id=reseller))

    return read()


def cash(contract: Contract, customer_id: str) -> Decimal:
    return D(contract.control.state()["customers"][customer_id]["amount"])


def test_partner_and_reseller_balances(contract: Contract) -> None:
    async def read(c: BssClient) -> tuple[tuple[AccountBalance, ...], AccountBalance | None]:
        return await c.list_partner_balances(), await partner_allocatable(c, demo.QINLING)

    own, qinling = contract.call(read)
    assert [(a.account_type, a.amount) for a in own] == [
        (1, D("52000.00")), (2, D("0.00")), (5, D("1200.00")), (7, D("20000.00")),
        (8, D("800000.00")),
    ]  # fmt: skip
    main = allocatable(own)
    assert main is not None
    assert (main.designated_amount, main.transferable, main.currency) == (
        D(demo.DESIGNATED),
        MOVABLE,
        "CNY",
    )
    assert own[1].credit_amount == D("100000.00")
    assert qinling is not None and qinling.transferable == D("18800.00")
    (logged, _) = contract.control.calls("list_partner_balances")
    assert (logged["query"], logged["body"]) == ("", "")


def test_fund_and_reclaim_a_customer(contract: Contract) -> None:
    async def scenario(c: BssClient) -> tuple[TransferResult, TransferResult, list[AdjustRecord]]:
        funded = await c.update_customer_account_amount(demo.HUAXIA, D("250.75"))
        back = await c.reclaim_to_partner_account(demo.HUAXIA, D("3750.75"))
        ledger = await c.all_partner_adjust_records(customer_id=demo.HUAXIA)
        return funded, back, ledger

    funded, back, ledger = contract.call(scenario)
    assert (funded.target, funded.ok, back.ok) == (demo.HUAXIA, True, True)
    assert funded.trans_id and back.trans_id and funded.trans_id != back.trans_id
    assert cash(contract, demo.HUAXIA) == D("0.00")
    assert [(r.operation_type, r.amount, r.trans_id) for r in ledger] == [
        ("SOURCE_OPERATION_BEADJUST", D("3500.00"), "2025101006000000000104"),
        ("SOURCE_OPERATION_BEADJUST", D("250.75"), funded.trans_id),
        ("SOURCE_OPERATION_BERETRIEVE", D("3750.75"), back.trans_id),
    ]
    assert ledger[-1].customer_name == "Beijing Huaxia Online Education Technology Co., Ltd."
    main = contract.call(partner_allocatable)
    assert main is not None and main.amount == D("800000.00") + D("3500.00")
    (logged,) = contract.control.calls("update_customer_account_amount")
    assert logged["body"] == f'{{"customer_id": "{demo.HUAXIA}", "amount": 250.75}}'


TRANSFER_ERRORS = [
    pytest.param(lambda c: c.update_customer_account_amount(demo.XINGHE, MOVABLE + D("0.01")),
                 "CBC.99005003", id="beyond-allocatable-less-designated"),
    pytest.param(lambda c: c.reclaim_to_partner_account(demo.XINGHE, D("12000.01")),
                 "CBC.99005003", id="reclaim-beyond-the-customers-cash"),
    pytest.param(lambda c: c.update_customer_account_amount(demo.MINGYUAN, D("1.00")),
                 "CBC.0100", id="referral-customer"),
    pytest.param(lambda c: c.update_customer_account_amount(demo.SHU_BROCADE, D("1.00")),
                 "CBC.0100", id="a-resellers-customer"),
    pytest.param(lambda c: c.update_customer_account_amount(
                     demo.XINGHE, D("1.00"), indirect_partner_id="0" * 32),
                 "CBC.99000037", id="not-our-reseller"),
    pytest.param(lambda c: c.update_indirect_partner_account("0" * 32, D("1.00")),
                 "CBC.99000037", id="fund-not-our-reseller"),
    pytest.param(lambda c: c.update_indirect_partner_account(demo.TIANFU, MOVABLE + D("0.01")),
                 "CBC.99005003", id="fund-reseller-beyond"),
    pytest.param(lambda c: c.reclaim_indirect_partner_account(demo.QINLING, D("18800.01")),
                 "CBC.99005003", id="reclaim-reseller-beyond"),
    pytest.param(lambda c: c.reclaim_indirect_partner_account("0" * 32, D("1.00")),
                 "CBC.99000037", id="reclaim-not-our-reseller"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "code"), TRANSFER_ERRORS)
def test_transfer_refusals_raise_and_move_nothing(
    contract: Contract, action: Any, code: str
) -> None:
    before = contract.control.state()
    with pytest.raises(ApiError) as info:
        contract.call(action)
    assert (type(info.value), info.value.status, info.value.error_code) == (ApiError, 400, code)
    (logged,) = contract.control.calls()  # one call, never retried
    assert logged["error_code"] == code
    after = contract.control.state()
    for part in ("accounts", "customers", "adjust_records"):
        assert after[part] == before[part]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.update_customer_account_amount(demo.XINGHE, 1.0), TypeError),
        (lambda c: c.update_customer_account_amount(demo.XINGHE, D("0.001")), ValueError),
        (lambda c: c.reclaim_to_partner_account("", D("1.00")), ValueError),
        (lambda c: c.update_indirect_partner_account("r" * 65, D("1.00")), ValueError),
        (lambda c: c.reclaim_indirect_partner_account(demo.TIANFU, D("-1.00")), ValueError),
        (lambda c: c.list_customers_balances_detail([f"c{n}" for n in range(101)]), ValueError),
    ],
    ids=["float", "sub-cent", "no-customer", "long-reseller", "negative", "101-balances"],
)
def test_bad_transfer_arguments_never_leave_the_client(
    contract: Contract, call: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        contract.call(call)
    assert contract.control.calls() == []


def test_acting_for_a_resellers_customer(contract: Contract) -> None:
    async def scenario(c: BssClient) -> tuple[TransferResult, list[AdjustRecord]]:
        funded = await c.update_customer_account_amount(
            demo.SHU_BROCADE, D("1000.00"), indirect_partner_id=demo.TIANFU
        )
        return funded, await c.all_partner_adjust_records(indirect_partner_id=demo.TIANFU)

    funded, theirs = contract.call(scenario)
    assert cash(contract, demo.SHU_BROCADE) == D("4000.00")
    assert [r.trans_id for r in theirs][-1] == funded.trans_id
    tianfu = contract.call(lambda c: partner_allocatable(c, demo.TIANFU))
    assert tianfu is not None and tianfu.amount == D("56000.00")


def test_fund_and_reclaim_a_reseller(contract: Contract) -> None:
    async def scenario(c: BssClient) -> list[TransferResult]:
        return [
            await c.update_indirect_partner_account(demo.PENGCHENG, D("3000.00")),
            await c.reclaim_indirect_partner_account(demo.PENGCHENG, D("15000.00")),
        ]

    results = contract.call(scenario)
    assert all(r.ok and r.trans_id for r in results)
    pengcheng = contract.call(lambda c: partner_allocatable(c, demo.PENGCHENG))
    main = contract.call(partner_allocatable)
    assert (pengcheng.amount, main.amount) == (D("0.00"), D("812000.00"))
    ledger = contract.call(lambda c: c.all_partner_adjust_records(customer_id=demo.PENGCHENG))
    assert [(r.operation_type, r.amount) for r in ledger][-2:] == [
        ("SOURCE_OPERATION_BEADJUST", D("3000.00")),
        ("SOURCE_OPERATION_BERETRIEVE", D("15000.00")),
    ]


def test_customer_balances_leave_out_what_is_not_resale(contract: Contract) -> None:
    asked = [demo.XINGHE, demo.MINGYUAN, demo.LINGYUN, demo.SHU_BROCADE]
    found = contract.call(lambda c: c.list_customers_balances_detail(asked))
    assert [(b.customer_id, b.amount, b.debt_amount) for b in found] == [
        (demo.XINGHE, D("12000.00"), D("0.00")),
        (demo.LINGYUN, D("0.00"), D("150.00")),
    ]


def test_all_customer_balances_batches_by_100(contract: Contract) -> None:
    asked = [demo.RUIXIN, *(f"{n:032x}" for n in range(149)), demo.HAINA, demo.RUIXIN]
    found = contract.call(lambda c: c.all_customers_balances_detail(asked))
    assert {cid: b.amount for cid, b in found.items()} == {
        demo.RUIXIN: D("800.00"),
        demo.HAINA: D("20000.00"),
    }
    assert len(contract.control.calls("list_customers_balances_detail")) == 2  # 151 distinct ids


def test_spending_shows_as_debt(contract: Contract) -> None:
    contract.control.spend_cash(demo.RUIXIN, "1000.00")
    (balance,) = contract.call(lambda c: c.list_customers_balances_detail([demo.RUIXIN]))
    assert (balance.amount, balance.debt_amount) == (D("0.00"), D("200.00"))


def test_the_ledger_is_typed_and_paged(contract: Contract) -> None:
    ledger = contract.call(lambda c: c.all_partner_adjust_records(page_size=3))
    assert len(ledger) == demo.ADJUST_RECORDS
    assert ledger[0] == AdjustRecord(
        trans_id="2025082002000000000101", customer_id=demo.TIANFU,
        customer_name="Chengdu Tianfu Cloud Services Co., Ltd.",
        operation_type="SOURCE_OPERATION_BEADJUST", amount=D("60000.00"), currency="CNY",
        operation_time=datetime(2025, 8, 20, 2, 0, 0, tzinfo=timezone.utc), measure_id=1,
        apply_scene=None, memo=None,
    )  # fmt: skip
    assert ledger[1].memo == "Q3 cloud budget"
    offsets = sorted(paging(c) for c in contract.control.calls("list_partner_adjust_records"))
    assert offsets == [(0, 3), (3, 3), (6, 3)]
    logged = contract.control.calls("list_partner_adjust_records")[0]
    assert logged["path"] == "/v3/accounts/partner-accounts/adjust-records"


def test_a_designated_amount_raised_by_huawei_blocks_transfers(contract: Contract) -> None:
    main = contract.call(partner_allocatable)
    contract.control.set_account(main.account_id, designated_amount="800000.00")
    with pytest.raises(ApiError) as info:
        contract.call(lambda c: c.update_customer_account_amount(demo.XINGHE, D("0.01")))
    assert info.value.error_code == "CBC.99005003"


def test_readonly_operator(contract: Contract) -> None:
    client = contract.new_client(readonly_credentials())
    for call in (
        client.update_customer_account_amount(demo.XINGHE, D("1.00")),
        client.reclaim_to_partner_account(demo.XINGHE, D("1.00")),
        client.update_indirect_partner_account(demo.TIANFU, D("1.00")),
        client.reclaim_indirect_partner_account(demo.TIANFU, D("1.00")),
    ):
        with pytest.raises(AuthError) as info:
            contract.run(call)
        assert (info.value.status, info.value.error_code) == (403, "CBC.0151")
    assert len(contract.run(client.list_partner_balances())) == 5
    assert cash(contract, demo.XINGHE) == D("12000.00")
