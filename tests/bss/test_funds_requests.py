"""The coupon and cash calls on the wire, and what the client makes of unusual answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from reconciler.bss import CouponReclaimResult, ItemError, TransferResult
from reconciler.errors import ApiError, IncompleteAnswerError, OutcomeUnknownError

from .fakes import SK, reply, split_query, verify
from .test_client_requests import run

D = Decimal
COUPONS = "/v2/promotions/benefits/partner-coupons"
RECLAIM = f"{COUPONS}/reclaim"
RECORDS = f"{COUPONS}/records/query"
FUND = "/v2/accounts/partner-accounts/adjust-amount"
RESELLER = "/v2/accounts/partner-accounts/indirect-partner-reclaim"
BALANCES = "/v2/accounts/partner-accounts/balances"
LEDGER = "/v3/accounts/partner-accounts/adjust-records"
CUSTOMER_BALANCES = "/v2/accounts/customer-accounts/balances/batch-query"
LEDGER_RECORD = {
    "trans_id": "t-1", "customer_id": "c-1", "operation_type": "SOURCE_OPERATION_BEADJUST",
    "amount": "7.00", "operation_time": "2026-01-02T03:04:05Z",
}  # fmt: skip


def test_issue_body_in_reference_order() -> None:
    result, fake = run(
        lambda c: c.create_partner_coupons(
            "q-1",
            ["c-1", "c-2"],
            D("10"),
            valid_time="2026-02-01T00:00:00Z",
            product_ids=["p-1"],
            memo="",
            indirect_partner_id="ip-1",
        ),
        {("POST", COUPONS): [reply(200, {"coupon_infos": [{"id": "c-1", "coupon_id": "cp-1"}]})]},
    )
    (seen,) = fake.seen
    assert seen.body == (
        b'{"quota_id": "q-1", "customer_ids": ["c-1", "c-2"], "face_value": 10.00, '
        b'"valid_time": "2026-02-01T00:00:00Z", "product_ids": ["p-1"], "memo": "", '
        b'"indirect_partner_id": "ip-1"}'
    )
    verify(seen, SK)
    assert result.successes == {"c-1": "cp-1"}
    assert result.unaccounted == ("c-2",)  # in neither list: settle from the records


def test_repeated_query_parameters_are_signed_as_sent() -> None:
    _, fake = run(
        lambda c: c.list_partner_coupons_record(
            operation_types=["2", "1"], coupon_ids=["cp b", "cp/a"], limit=100
        ),
        {("GET", RECORDS): [reply(200, {"records": [], "total_count": 0})]},
    )
    (seen,) = fake.seen
    assert split_query(seen.query) == [
        ("coupon_ids", "cp b"), ("coupon_ids", "cp/a"), ("limit", "100"), ("offset", "0"),
        ("operation_types", "1"), ("operation_types", "2"),
    ]  # fmt: skip
    assert seen.body == b""
    verify(seen, SK)


def test_list_partner_balances_and_the_v3_ledger_path() -> None:
    async def calls(c: Any) -> tuple[Any, Any]:
        return (
            await c.list_partner_balances(indirect_partner_id="ip-1"),
            await c.list_partner_adjust_records(trans_id="t-1"),
        )

    (accounts, ledger), fake = run(
        calls,
        {
            ("GET", BALANCES): [reply(200, {"account_balances": [
                {"account_id": "a", "account_type": 8, "amount": 10.5, "currency": "CNY",
                 "designated_amount": 0.5, "measure_id": 1}]})],
            ("GET", LEDGER): [reply(200, {"records": [LEDGER_RECORD], "total_count": 1})],
        },
    )  # fmt: skip
    assert [s.query for s in fake.seen] == [
        b"indirect_partner_id=ip-1",
        b"limit=100&offset=0&trans_id=t-1",
    ]
    (account,) = accounts
    assert (account.amount, account.transferable) == (D("10.50"), D("10.00"))
    assert ledger.items[0].amount == D("7.00")  # a string on the wire


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (reply(204), CouponReclaimResult("cp-1")),
        (reply(200, {"error_code": "CBC.99000048", "error_msg": "expired or reclaimed"}),
         CouponReclaimResult("cp-1", ItemError("cp-1", "CBC.99000048", "expired or reclaimed"))),
        (reply(200, {}), CouponReclaimResult("cp-1")),
    ],
    ids=["204", "200-with-error-code", "200-empty"],
)  # fmt: skip
def test_reclaim_answers(answer: Any, expected: CouponReclaimResult) -> None:
    result, fake = run(lambda c: c.reclaim_partner_coupons("cp-1"), {("POST", RECLAIM): [answer]})
    assert result == expected
    assert fake.seen[0].body == b'{"coupon_id": "cp-1"}'


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (reply(200, {"transfer_id": "t-9"}), TransferResult("c-1", "t-9")),
        (reply(200, {"error_code": "CBC.99001234", "error_msg": "no"}),
         TransferResult("c-1", None, ItemError("c-1", "CBC.99001234", "no"))),
        (reply(200, {}), OutcomeUnknownError),
        (reply(200, b"<html>"), OutcomeUnknownError),
        (reply(502, b"bad gateway"), OutcomeUnknownError),
        (reply(400, {"error_code": "CBC.99005003", "error_msg": "Insufficient balance"}),
         ApiError),
    ],
    ids=["ledger-id", "200-with-error-code", "200-without-id", "not-json", "502", "400"],
)  # fmt: skip
def test_transfer_answers(answer: Any, outcome: Any) -> None:
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            run(lambda c: c.update_customer_account_amount("c-1", D("1.00")),
                {("POST", FUND): [answer, reply(200, {"transfer_id": "never"})]})  # fmt: skip
        return
    result, fake = run(
        lambda c: c.update_customer_account_amount("c-1", D("1.00")), {("POST", FUND): [answer]}
    )
    assert result == outcome
    assert fake.seen[0].body == b'{"customer_id": "c-1", "amount": 1.00}'


def test_a_lost_transfer_answer_is_sent_once() -> None:
    lost = httpx.ReadTimeout("timed out")
    with pytest.raises(OutcomeUnknownError) as info:
        run(lambda c: c.reclaim_indirect_partner_account("ip-1", D("5.00")),
            {("POST", RESELLER): [lost, reply(200, {"trans_id": "t"})]})  # fmt: skip
    assert str(info.value).startswith(f"POST {RESELLER} -> outcome unknown: ReadTimeout")


def _without(record: dict[str, Any], key: str, value: Any = None) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != key}
    if value is not None:
        out[key] = value
    return out


ACCOUNT = {"account_id": "a-8", "account_type": 8, "amount": 10.5, "currency": "CNY"}
BALANCE = {"customer_id": "c-1", "amount": 3.0, "debt_amount": 1.0}


@pytest.mark.parametrize(
    ("route", "call", "body", "named"),
    [
        *[(("GET", LEDGER), lambda c: c.list_partner_adjust_records(),
           {"records": [_without(LEDGER_RECORD, field)], "total_count": 1},
           f"records[0] (customer_id c-1): {field} is missing")
          for field in ("trans_id", "operation_type", "amount", "operation_time")],
        (("GET", LEDGER), lambda c: c.list_partner_adjust_records(),
         {"records": [_without(LEDGER_RECORD, "amount", "seven")], "total_count": 1},
         "records[0] (customer_id c-1): amount is 'seven', not an amount"),
        (("GET", LEDGER), lambda c: c.list_partner_adjust_records(),
         {"records": [_without(LEDGER_RECORD, "customer_id")], "total_count": 1},
         "records[0]: customer_id is missing"),
        *[(("GET", BALANCES), lambda c: c.list_partner_balances(),
           {"account_balances": [_without(ACCOUNT, field)]}, f"{field} is missing")
          for field in ("account_id", "account_type", "amount")],
        (("GET", BALANCES), lambda c: c.list_partner_balances(),
         {"account_balances": [_without(ACCOUNT, "designated_amount", [1])]},
         "account_balances[0] (account_id a-8): designated_amount is [1], not an amount"),
        (("GET", BALANCES), lambda c: c.list_partner_balances(), {"account_balances": {}},
         "the answer: account_balances is not a list"),
        (("GET", BALANCES), lambda c: c.list_partner_balances(), {"account_balances": ["x"]},
         "account_balances[0]: item is not an object"),
        *[(("POST", CUSTOMER_BALANCES), lambda c: c.list_customers_balances_detail(["c-1"]),
           {"customer_balances": [_without(BALANCE, field)]},
           f"customer_balances[0] (customer_id c-1): {field} is missing")
          for field in ("amount", "debt_amount")],
        (("POST", CUSTOMER_BALANCES), lambda c: c.list_customers_balances_detail(["c-1"]),
         {"customer_balances": [_without(BALANCE, "customer_id")]},
         "customer_balances[0]: customer_id is missing"),
        (("POST", CUSTOMER_BALANCES), lambda c: c.all_customers_balances_detail(["c-1"]),
         {"customer_balances": [BALANCE, {**BALANCE, "amount": 4.0}]},
         "customer_balances (customer_id c-1): amount differs between two entries"),
        *[(("GET", LEDGER), lambda c: c.list_partner_adjust_records(),
           {"records": [{**LEDGER_RECORD, "operation_time": when}], "total_count": 1},
           f"records[0] (customer_id c-1): operation_time is {when!r}, not a time in the form "
           "yyyy-MM-ddTHH:mm:ssZ")
          for when in ("2026-01-02 03:04:05", "2026-01-02T03:04:05+08:00", "2026-02-30T00:00:00Z")],
        (("GET", LEDGER), lambda c: c.list_partner_adjust_records(),
         {"records": [{**LEDGER_RECORD, "amount": "-7.00"}], "total_count": 1},
         "records[0] (customer_id c-1): amount is '-7.00', negative where the API promises >= 0"),
        *[(("POST", CUSTOMER_BALANCES), lambda c: c.list_customers_balances_detail(["c-1"]),
           {"customer_balances": [{**BALANCE, field: -1.0}]},
           f"customer_balances[0] (customer_id c-1): {field} is Decimal('-1.0'), negative")
          for field in ("amount", "debt_amount")],
        *[(("GET", BALANCES), lambda c: c.list_partner_balances(),
           {"account_balances": [{**ACCOUNT, field: -0.5}]},
           f"account_balances[0] (account_id a-8): {field} is Decimal('-0.5'), negative")
          for field in ("amount", "designated_amount")],
    ],
)  # fmt: skip
def test_cash_answers_missing_what_a_decision_rests_on_stop(
    route: tuple[str, str], call: Any, body: Any, named: str
) -> None:
    with pytest.raises(IncompleteAnswerError) as info:
        run(call, {route: [reply(200, body)]})
    assert named in str(info.value)
    assert "stops instead of guessing" in str(info.value)


def test_shown_only_cash_fields_may_be_absent() -> None:
    async def calls(c: Any) -> tuple[Any, Any]:
        return await c.list_partner_balances(), await c.list_customers_balances_detail(["c-1"])

    (accounts, balances), _ = run(
        calls,
        {
            ("GET", BALANCES): [reply(200, {"account_balances": [
                {"account_id": "a-8", "account_type": 8, "amount": 10}]})],
            ("POST", CUSTOMER_BALANCES): [reply(200, {"customer_balances": [
                {"customer_id": "c-1", "amount": "0", "debt_amount": 0}]})],
        },
    )  # fmt: skip
    (account,) = accounts
    assert (account.designated, account.transferable, account.currency) == (D("0"), D("10"), None)
    (balance,) = balances
    assert (balance.amount, balance.debt_amount, balance.currency) == (D("0.00"), D("0"), None)
