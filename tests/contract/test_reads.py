"""Every read (§7.1, §7.2, §7.3, §7.8, §7.11, §7.12): filters, typed models, errors, paging.

Each case runs in both modes. Expected values are the demo seed's, as the client's typed models;
amounts are compared as ``Decimal`` and must come back with exactly two decimals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reconciler.bss import BssClient, Page
from reconciler.errors import ApiError

from .harness import Contract, paging
from .seeded import (
    CHILD_PENGCHENG,
    CHILD_QINLING,
    CHILD_RECLAIMED,
    CHILD_TIANFU,
    COUPONS_QUOTA,
    CUSTOMER_COUNT,
    CUSTOMER_NAMES,
    HAINA,
    HUAXIA,
    MAIN_QUOTA,
    NOT_OURS,
    QINLING,
    QINLING_CHILD,
    QUOTA_MAIN,
    QUOTA_SECOND,
    RECLAIM_RECORD,
    RUIXIN,
    RUIXIN_CUSTOMER,
    SECOND_QUOTA,
    SHU_BROCADE,
    TIANFU,
    TIANFU_PARTNER,
    XINGHE,
    XINGHE_CUSTOMER,
    XINGHE_RESOURCE_COUNT,
    XINGHE_WEB_01,
    XINGHE_WEB_01_DISK_RESOURCE,
    XINGHE_WEB_01_RESOURCE,
)

Action = Callable[[BssClient], Awaitable[Any]]


async def view(pending: Awaitable[Page[Any]], attr: str) -> tuple[int, tuple[Any, ...]]:
    """``(total, (item.attr, ...))`` of one page."""
    page = await pending
    return page.total, tuple(getattr(item, attr) for item in page.items)


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


D = Decimal
BEGIN_SEPT, BEGIN_NOV = "2025-09-01T00:00:00Z", "2025-11-01T00:00:00Z"

READS = [
    # §7.1 list_sub_customers
    pytest.param(
        lambda c: c.list_sub_customers(customer_id=XINGHE),
        Page((XINGHE_CUSTOMER,), 1),
        id="7.1-customer_id-typed",
    ),
    pytest.param(
        lambda c: c.list_sub_customers(customer_id=RUIXIN),
        Page((RUIXIN_CUSTOMER,), 1),
        id="7.1-without-account-manager",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(limit=10), "account_name"),
        (CUSTOMER_COUNT, CUSTOMER_NAMES[:10]),
        id="7.1-first-page-total",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(offset=7, limit=7), "account_name"),
        (CUSTOMER_COUNT, CUSTOMER_NAMES[7:14]),
        id="7.1-offset-is-a-record-offset",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(association_type="1"), "account_name"),
        (
            8,
            (
                "qingshan-pharma",
                "mingyuan-design",
                "yuntu-maps",
                "liu.yang",
                "baicao-tcm",
                "xiyu-agri",
                "zhao.min",
                "guanghua-print",
            ),
        ),
        id="7.1-association_type-referral",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(label="healthcare"), "account_name"),
        (3, ("qingshan-pharma", "baicao-tcm", "songhe-elderly")),
        id="7.1-label",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(account_name="hai"), "account_name"),
        (2, ("haina-data", "binhai-port")),
        id="7.1-account_name-infix",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(customer="LOGISTICS"), "account_name"),
        (1, ("jinqiao-logistics",)),
        id="7.1-customer-name-case-insensitive",
    ),
    pytest.param(
        lambda c: view(
            c.list_sub_customers(associated_on_begin="2025-01-01T00:00:00Z"), "account_name"
        ),
        (4, ("guanghua-print", "tianyi-security", "yanhu-tourism", "sg-lionbridge")),
        id="7.1-associated_on_begin",
    ),
    pytest.param(
        lambda c: view(
            c.list_sub_customers(associated_on_end="2023-05-19T01:05:33Z"), "account_name"
        ),
        (3, ("xinghe-net", "jinqiao-logistics", "huaxia-edu")),
        id="7.1-associated_on_end",
    ),
    pytest.param(
        lambda c: view(c.list_sub_customers(indirect_partner_id=QINLING), "account_name"),
        (2, ("huashan-tea", "qin-museum-tech")),
        id="7.1-a-resellers-customers",
    ),
    pytest.param(
        lambda c: c.list_sub_customers(customer_id=NOT_OURS),
        Page((), 0),
        id="7.1-unknown-customer-is-empty",
    ),
    # §7.2 list_indirect_partners
    pytest.param(
        lambda c: view(c.list_indirect_partners(), "account_name"),
        (3, ("tianfu-cloud", "qinling-digital", "pengcheng-cloud")),
        id="7.2-all",
    ),
    pytest.param(
        lambda c: c.list_indirect_partners(indirect_partner_id=TIANFU),
        Page((TIANFU_PARTNER,), 1),
        id="7.2-indirect_partner_id-typed",
    ),
    pytest.param(
        lambda c: view(c.list_indirect_partners(account_name="cheng"), "account_name"),
        (1, ("pengcheng-cloud",)),
        id="7.2-account_name",
    ),
    pytest.param(
        lambda c: view(
            c.list_indirect_partners(associated_on_begin="2024-01-01T00:00:00Z"), "account_name"
        ),
        (2, ("qinling-digital", "pengcheng-cloud")),
        id="7.2-associated_on_begin",
    ),
    # §7.3 list_pay_per_use_customer_resources
    pytest.param(
        lambda c: c.list_customer_resources(XINGHE, limit=2),
        Page((XINGHE_WEB_01_RESOURCE, XINGHE_WEB_01_DISK_RESOURCE), XINGHE_RESOURCE_COUNT),
        id="7.3-main-then-attached-typed",
    ),
    pytest.param(
        lambda c: view(c.list_customer_resources(XINGHE, only_main_resource=1), "resource_name"),
        (3, ("xinghe-web-01", "xinghe-web-02", "xinghe-orders-db")),
        id="7.3-only_main_resource",
    ),
    pytest.param(
        lambda c: view(c.list_customer_resources(HAINA, only_main_resource=1), "auto_renew"),
        (4, (True, False, True, False)),
        id="7.3-expire_policy-read-with-partner-keys",
    ),
    pytest.param(
        lambda c: view(c.list_customer_resources(HUAXIA, status_list=[5]), "resource_name"),
        (
            4,
            (
                "huaxia-old-lms",
                "huaxia-old-lms-system-disk",
                "huaxia-old-lms-data-disk",
                "huaxia-old-lms-bandwidth",
            ),
        ),
        id="7.3-status_list-expired",
    ),
    pytest.param(
        lambda c: view(c.list_customer_resources(XINGHE, resource_ids=[XINGHE_WEB_01]), "status"),
        (3, (2, 2, 2)),
        id="7.3-resource_ids-with-attached",
    ),
    # §7.8 list_quota_coupons
    pytest.param(
        lambda c: c.list_quota_coupons(),
        Page((MAIN_QUOTA, SECOND_QUOTA, COUPONS_QUOTA), 3),
        id="7.8-all-typed",
    ),
    pytest.param(
        lambda c: c.list_quota_coupons(quota_ids=[QUOTA_SECOND]),
        Page((SECOND_QUOTA,), 1),
        id="7.8-quota_ids",
    ),
    pytest.param(
        lambda c: view(c.list_quota_coupons(indirect_partner_id=QINLING), "balance"),
        (1, (D("18500.00"),)),
        id="7.8-a-resellers-quota",
    ),
    pytest.param(
        lambda c: view(c.list_quota_coupons(indirect_partner_id=TIANFU), "quota_id"),
        (1, (CHILD_TIANFU,)),
        id="7.8-reclaimed-child-left-out",
    ),
    pytest.param(
        lambda c: c.list_quota_coupons(quota_status_list=[5]),
        Page((), 0),
        id="7.8-quota_status_list",
    ),
    # §7.11 list_issued_coupon_quotas
    pytest.param(
        lambda c: view(c.list_issued_coupon_quotas(), "quota_id"),
        (4, (CHILD_TIANFU, CHILD_QINLING, CHILD_RECLAIMED, CHILD_PENGCHENG)),
        id="7.11-all",
    ),
    pytest.param(
        lambda c: c.list_issued_coupon_quotas(quota_id=CHILD_QINLING),
        Page((QINLING_CHILD,), 1),
        id="7.11-quota_id-typed",
    ),
    pytest.param(
        lambda c: view(c.list_issued_coupon_quotas(parent_quota_id=QUOTA_MAIN), "quota_id"),
        (3, (CHILD_TIANFU, CHILD_QINLING, CHILD_RECLAIMED)),
        id="7.11-parent_quota_id",
    ),
    pytest.param(
        lambda c: view(c.list_issued_coupon_quotas(parent_quota_id=QUOTA_SECOND), "quota_id"),
        (1, (CHILD_PENGCHENG,)),
        id="7.11-parent_quota_id-second",
    ),
    pytest.param(
        lambda c: c.list_issued_coupon_quotas(parent_quota_id=""),
        Page((), 0),
        id="7.11-empty-parent_quota_id-filters",
    ),
    pytest.param(
        lambda c: view(c.list_issued_coupon_quotas(indirect_partner_id=TIANFU), "reclaimed"),
        (2, (False, True)),
        id="7.11-reseller-incl-reclaimed",
    ),
    # §7.12 list_coupon_quotas_records
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(), "operation_type"),
        (5, ("10", "10", "10", "11", "10")),
        id="7.12-all",
    ),
    pytest.param(
        lambda c: c.list_coupon_quotas_records(operation_type="11"),
        Page((RECLAIM_RECORD,), 1),
        id="7.12-operation_type-reclaim-typed",
    ),
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(operation_type="10"), "amount"),
        (4, (D("30000.00"), D("25000.00"), D("5000.00"), D("15000.00"))),
        id="7.12-operation_type-issue",
    ),
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(operation_time_begin=BEGIN_SEPT), "amount"),
        (3, (D("5000.00"), D("5000.00"), D("15000.00"))),
        id="7.12-operation_time_begin",
    ),
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(operation_time_end=BEGIN_SEPT), "amount"),
        (2, (D("30000.00"), D("25000.00"))),
        id="7.12-operation_time_end",
    ),
    pytest.param(
        lambda c: view(
            c.list_coupon_quotas_records(operation_time_begin="2025-10-20T03:12:45Z"), "quota_id"
        ),
        (1, (CHILD_PENGCHENG,)),
        id="7.12-begin-is-strict",
    ),
    pytest.param(
        lambda c: view(
            c.list_coupon_quotas_records(
                operation_time_begin=BEGIN_SEPT, operation_time_end=BEGIN_NOV, operation_type="10"
            ),
            "quota_id",
        ),
        (1, (CHILD_RECLAIMED,)),
        id="7.12-time-window-and-type",
    ),
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(parent_quota_id=QUOTA_SECOND), "quota_id"),
        (1, (CHILD_PENGCHENG,)),
        id="7.12-parent_quota_id",
    ),
    pytest.param(
        lambda c: view(c.list_coupon_quotas_records(indirect_partner_id=TIANFU), "quota_id"),
        (3, (CHILD_TIANFU, CHILD_RECLAIMED, CHILD_RECLAIMED)),
        id="7.12-indirect_partner_id",
    ),
]


@pytest.mark.parametrize(("action", "expected"), READS)
def test_read_returns_the_seeded_values(contract: Contract, action: Action, expected: Any) -> None:
    assert contract.call(action) == expected
    assert contract.statuses("iam_create_temporary_access_key") == []  # partner keys only


def test_amounts_keep_exactly_two_decimals(contract: Contract) -> None:
    async def amounts(c: BssClient) -> list[Decimal | None]:
        quotas = await c.all_quota_coupons()
        issued = await c.all_issued_coupon_quotas()
        records = await c.all_coupon_quotas_records()
        return [
            *(a for q in quotas for a in (q.quota_value, q.balance)),
            *(a for q in issued for a in (q.quota_value, q.balance)),
            *(r.amount for r in records),
        ]

    found = contract.call(amounts)
    assert len(found) == 2 * 3 + 2 * 4 + 5
    assert all(isinstance(a, Decimal) and a.as_tuple().exponent == -2 for a in found)
    assert [str(a) for a in found[:4]] == ["500000.00", "445000.00", "200000.00", "185000.00"]


READ_ERRORS = [
    pytest.param(
        lambda c: c.list_sub_customers(indirect_partner_id=NOT_OURS),
        "list_sub_customers", "CBC.99000037",
        id="7.1-not-our-reseller",
    ),
    pytest.param(
        lambda c: c.list_sub_customers(associated_on_begin="2024-01-01"),
        "list_sub_customers", "CBC.0100",
        id="7.1-bad-timestamp",
    ),
    pytest.param(
        lambda c: c.list_sub_customers(account_name="xinghe net"),
        "list_sub_customers", "CBC.0100",
        id="7.1-space-in-fuzzy-filter",
    ),
    pytest.param(
        lambda c: c.list_indirect_partners(associated_on_end="yesterday"),
        "list_indirect_partners", "CBC.0100",
        id="7.2-bad-timestamp",
    ),
    pytest.param(
        lambda c: c.list_customer_resources(SHU_BROCADE),
        "list_pay_per_use_customer_resources", "CBC.0100",
        id="7.3-not-our-customer",
    ),
    pytest.param(
        lambda c: c.list_customer_resources(XINGHE, status_list=[1]),
        "list_pay_per_use_customer_resources", "CBC.0100",
        id="7.3-bad-status",
    ),
    pytest.param(
        lambda c: c.list_quota_coupons(quota_status_list=[6]),
        "list_quota_coupons", "CBC.0100",
        id="7.8-bad-status",
    ),
    pytest.param(
        lambda c: c.list_issued_coupon_quotas(indirect_partner_id=NOT_OURS),
        "list_issued_coupon_quotas", "CBC.99000037",
        id="7.11-not-our-reseller",
    ),
    pytest.param(
        lambda c: c.list_coupon_quotas_records(operation_time_begin=""),
        "list_coupon_quotas_records", "CBC.0100",
        id="7.12-empty-timestamp",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("action", "operation", "code"), READ_ERRORS)
def test_documented_read_errors(
    contract: Contract, action: Action, operation: str, code: str
) -> None:
    with pytest.raises(ApiError) as info:
        contract.call(action)
    error = info.value
    assert type(error) is ApiError
    assert (error.status, error.error_code) == (400, code)
    (logged,) = contract.control.calls()  # a 400 is never retried
    assert (logged["operation"], logged["status"], logged["error_code"]) == (operation, 400, code)
    assert error.request_id == logged["request_id"]
    assert str(error).endswith(f"(request id {logged['request_id']})")
    assert str(error).startswith(f"{logged['method']} {logged['path']} -> 400 {code}: ")


WALKS = [
    pytest.param(
        lambda c: collect(c.iter_sub_customers(page_size=7)),
        lambda c: c.list_sub_customers(limit=100),
        "list_sub_customers", 7, CUSTOMER_COUNT,
        id="7.1-25-customers-by-7",
    ),
    pytest.param(
        lambda c: collect(c.iter_indirect_partners(page_size=2)),
        lambda c: c.list_indirect_partners(limit=100),
        "list_indirect_partners", 2, 3,
        id="7.2-3-resellers-by-2",
    ),
    pytest.param(
        lambda c: collect(c.iter_customer_resources(XINGHE, page_size=2)),
        lambda c: c.list_customer_resources(XINGHE, limit=100),
        "list_pay_per_use_customer_resources", 2, XINGHE_RESOURCE_COUNT,
        id="7.3-7-resources-by-2",
    ),
    pytest.param(
        lambda c: collect(c.iter_customer_resources(XINGHE, page_size=2, only_main_resource=1)),
        lambda c: c.list_customer_resources(XINGHE, limit=100, only_main_resource=1),
        "list_pay_per_use_customer_resources", 2, 3,
        id="7.3-only-main-by-2",
    ),
    pytest.param(
        lambda c: collect(c.iter_quota_coupons(page_size=1)),
        lambda c: c.list_quota_coupons(limit=100),
        "list_quota_coupons", 1, 3,
        id="7.8-3-quotas-by-1",
    ),
    pytest.param(
        lambda c: collect(c.iter_issued_coupon_quotas(page_size=3)),
        lambda c: c.list_issued_coupon_quotas(limit=100),
        "list_issued_coupon_quotas", 3, 4,
        id="7.11-4-children-by-3",
    ),
    pytest.param(
        lambda c: collect(c.iter_issued_coupon_quotas(page_size=2)),
        lambda c: c.list_issued_coupon_quotas(limit=100),
        "list_issued_coupon_quotas", 2, 4,
        id="7.11-exact-multiple-no-empty-page",
    ),
    pytest.param(
        lambda c: collect(c.iter_coupon_quotas_records(page_size=2)),
        lambda c: c.list_coupon_quotas_records(limit=100),
        "list_coupon_quotas_records", 2, 5,
        id="7.12-5-records-by-2",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("walk", "one_page", "operation", "size", "total"), WALKS)
def test_walk_over_several_pages(
    contract: Contract,
    walk: Action,
    one_page: Action,
    operation: str,
    size: int,
    total: int,
) -> None:
    walked = contract.call(walk)
    requested = sorted(paging(c) for c in contract.control.calls(operation))
    single = contract.run(one_page(contract.new_client()))  # its own pacer: no 0.1 s wait
    assert walked == list(single.items)
    assert len(walked) == single.total == total
    assert requested == [(offset, size) for offset in range(0, total, size)]
    assert contract.statuses(operation) == [200] * (len(requested) + 1)
