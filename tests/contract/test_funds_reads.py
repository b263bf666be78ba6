"""The coupon and cash reads' documented errors through the client, in both modes: a reseller that
is not yours, invalid filters, and page sizes the client refuses before sending."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from reconciler.bss import BssClient
from reconciler.errors import ApiError
from tests.emulator import demo

from .harness import Contract

Action = Callable[[BssClient], Awaitable[Any]]
NOT_OURS = "0" * 32

READ_ERRORS = [
    pytest.param(lambda c: c.list_issued_partner_coupons(indirect_partner_id=NOT_OURS),
                 "list_issued_partner_coupons", "CBC.99000037", id="7.15-not-our-reseller"),
    pytest.param(lambda c: c.list_issued_partner_coupons(status=6),
                 "list_issued_partner_coupons", "CBC.0100", id="7.15-status-6"),
    pytest.param(lambda c: c.list_partner_coupons_record(operation_types=["10"]),
                 "list_partner_coupons_record", "CBC.0100", id="7.16-operation-type-10"),
    pytest.param(lambda c: c.list_partner_coupons_record(indirect_partner_id=NOT_OURS),
                 "list_partner_coupons_record", "CBC.99000037", id="7.16-not-our-reseller"),
    pytest.param(lambda c: c.list_customers_balances_detail([demo.XINGHE],
                                                            indirect_partner_id=NOT_OURS),
                 "list_customers_balances_detail", "CBC.99000037", id="7.19-not-our-reseller"),
    pytest.param(lambda c: c.list_partner_adjust_records(operation_type="ADJUST"),
                 "list_partner_adjust_records", "CBC.0100", id="7.20-bad-operation-type"),
    pytest.param(lambda c: c.list_partner_adjust_records(operation_time_begin="2026-01-01"),
                 "list_partner_adjust_records", "CBC.0100", id="7.20-bad-time"),
    pytest.param(lambda c: c.list_partner_adjust_records(indirect_partner_id=NOT_OURS),
                 "list_partner_adjust_records", "CBC.99000037", id="7.20-not-our-reseller"),
    pytest.param(lambda c: c.list_partner_balances(indirect_partner_id=NOT_OURS),
                 "list_partner_balances", "CBC.99000037", id="7.23-not-our-reseller"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "operation", "code"), READ_ERRORS)
def test_read_errors_raise_without_retrying(
    contract: Contract, action: Action, operation: str, code: str
) -> None:
    with pytest.raises(ApiError) as info:
        contract.call(action)
    assert (type(info.value), info.value.status, info.value.error_code) == (ApiError, 400, code)
    assert contract.statuses(operation) == [400]  # a 4xx is final, even for a read


@pytest.mark.parametrize(
    "action",
    [
        lambda c: c.list_issued_partner_coupons(limit=101),
        lambda c: c.list_partner_coupons_record(limit=0),
        lambda c: c.list_partner_adjust_records(offset=-1),
        lambda c: c.list_partner_adjust_records(colour="red"),
    ],
    ids=["limit-101", "limit-0", "negative-offset", "unknown-filter"],
)
def test_bad_paging_never_leaves_the_client(contract: Contract, action: Action) -> None:
    with pytest.raises((ValueError, TypeError)):
        contract.call(action)
    assert contract.control.calls() == []
