"""The official Python SDK (``huaweicloudsdkbss`` 3.1.219, unchanged) drives every coupon and cash
operation, and a smoke of the others, against ``reconciler emulator serve`` on loopback; the
balances add up.

The SDK signs with its own signer, sends its own headers (``X-Domain-Id`` from
``GlobalCredentials``, ``Content-Type`` on GETs too, §2.3), serialises bodies with ``simplejson``
(``", "``/``": "`` separators, ``Decimal`` as a bare number) and repeats list query parameters; the
emulator verifies all of it against the raw bytes. It is a development dependency only.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from huaweicloudsdkbss.v2 import (
    AdjustAccountReq,
    AdjustCouponQuotasReq,
    AdjustToIndirectPartnerReq,
    BssClient,
    CreatePartnerCouponsReq,
    CreatePartnerCouponsRequest,
    CustomerInfoV2,
    ListCouponQuotasRecordsRequest,
    ListCustomersBalancesDetailRequest,
    ListIndirectPartnersRequest,
    ListIssuedCouponQuotasRequest,
    ListIssuedPartnerCouponsRequest,
    ListPartnerAdjustRecordsRequest,
    ListPartnerBalancesRequest,
    ListPartnerCouponsRecordRequest,
    ListPayPerUseCustomerResourcesRequest,
    ListQuotaCouponsRequest,
    ListSubCustomersRequest,
    QueryCouponQuotasReqExt,
    QueryCustomersBalancesReq,
    QueryIndirectPartnersReq,
    QueryResourcesReq,
    QuerySubCustomerListReq,
    ReclaimCouponQuotasReq,
    ReclaimCouponQuotasRequest,
    ReclaimIndirectPartnerAccountReq,
    ReclaimIndirectPartnerAccountRequest,
    ReclaimPartnerCouponsReq,
    ReclaimPartnerCouponsRequest,
    ReclaimToPartnerAccountBalancesReq,
    ReclaimToPartnerAccountRequest,
    UpdateCouponQuotasRequest,
    UpdateCustomerAccountAmountRequest,
    UpdateIndirectPartnerAccountRequest,
)
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from reconciler.emulator import DEFAULT_DOMAIN_ID, DEFAULT_PARTNER_AK, DEFAULT_PARTNER_SK
from tests.emulator import demo

D = Decimal
pytestmark = pytest.mark.slow


@pytest.fixture
def sdk(served_url: str) -> Iterator[Any]:
    credentials = GlobalCredentials(DEFAULT_PARTNER_AK, DEFAULT_PARTNER_SK, DEFAULT_DOMAIN_ID)
    yield BssClient.new_builder().with_credentials(credentials).with_endpoints([served_url]).build()


def state(url: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{url}/_emulator/state", timeout=10).json()
    return found


def calls(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{url}/_emulator/calls", timeout=10).json()["calls"]
    return found


def allocatable(sdk: Any, reseller: str | None = None) -> tuple[Decimal, Decimal]:
    """``(amount, designated_amount)`` of the allocatable account, as the SDK reads it."""
    reply = sdk.list_partner_balances(ListPartnerBalancesRequest(indirect_partner_id=reseller))
    (account,) = [a for a in reply.account_balances if a.account_type == 8]
    # AccountBalanceV2 amounts are "number" (float in the SDK): two decimals survive str().
    return D(str(account.amount)), D(str(account.designated_amount or 0))


def test_coupons_through_the_official_sdk(sdk: Any, served_url: str) -> None:
    issued = sdk.create_partner_coupons(CreatePartnerCouponsRequest(body=CreatePartnerCouponsReq(
        quota_id=demo.QUOTA_COUPONS, customer_ids=[demo.XINGHE, demo.HUAXIA, demo.MINGYUAN],
        face_value=D("100.00"), memo="sdk",
    )))  # fmt: skip
    assert issued.status_code == 200
    coupon_ids = {i.id: i.coupon_id for i in issued.coupon_infos}
    assert set(coupon_ids) == {demo.XINGHE, demo.HUAXIA}
    assert [(e.id, e.error_code) for e in issued.error_details] == [(demo.MINGYUAN, "CBC.99000014")]
    listed = sdk.list_issued_partner_coupons(
        ListIssuedPartnerCouponsRequest(customer_id=demo.XINGHE, status=2, limit=100)
    )
    mine = [c for c in listed.user_coupons if c.coupon_id == coupon_ids[demo.XINGHE]]
    assert [(c.face_value, c.balance, c.status) for c in mine] == [(D("100.00"), D("100.00"), 2)]

    request = ReclaimPartnerCouponsRequest(
        body=ReclaimPartnerCouponsReq(coupon_id=coupon_ids[demo.XINGHE])
    )
    assert sdk.reclaim_partner_coupons(request).status_code == 204
    again = sdk.reclaim_partner_coupons(request)  # 200 with error_code: the SDK does not raise
    assert again.status_code == 200
    assert b'"error_code":"CBC.99000048"' in again.raw_content

    records = sdk.list_partner_coupons_record(ListPartnerCouponsRecordRequest(
        operation_types=["1", "2"], coupon_ids=list(coupon_ids.values()), limit=100,
    ))  # fmt: skip
    assert sorted((r.operation_type, r.customer_id, r.operation_amount, r.result)
                  for r in records.records) == sorted([
        ("1", demo.XINGHE, D("100.00"), "0"), ("1", demo.HUAXIA, D("100.00"), "0"),
        ("2", demo.XINGHE, D("100.00"), "0"), ("2", demo.XINGHE, D("0.00"), "-1"),
    ])  # fmt: skip

    theirs = sdk.create_partner_coupons(CreatePartnerCouponsRequest(body=CreatePartnerCouponsReq(
        quota_id=demo.CHILD_TIANFU, customer_ids=[demo.SHU_BROCADE], face_value=D("50.00"),
        indirect_partner_id=demo.TIANFU,
    )))  # fmt: skip
    assert [i.id for i in theirs.coupon_infos] == [demo.SHU_BROCADE]

    quotas = state(served_url)["quotas"]
    # 90050.00 - 2 x 100.00 issued + 100.00 reclaimed; the reseller's quota gave 50.00.
    assert quotas[demo.QUOTA_COUPONS]["balance"] == "89950.00"
    assert quotas[demo.CHILD_TIANFU]["balance"] == "29950.00"


def test_cash_through_the_official_sdk(sdk: Any, served_url: str) -> None:
    assert allocatable(sdk) == (D("800000.00"), D("50000.00"))
    funded = sdk.update_customer_account_amount(
        UpdateCustomerAccountAmountRequest(
            body=AdjustAccountReq(customer_id=demo.XINGHE, amount=D("500.00"))
        )
    )
    back = sdk.reclaim_to_partner_account(
        ReclaimToPartnerAccountRequest(
            body=ReclaimToPartnerAccountBalancesReq(customer_id=demo.XINGHE, amount=D("200.00"))
        )
    )
    to_reseller = sdk.update_indirect_partner_account(
        UpdateIndirectPartnerAccountRequest(
            body=AdjustToIndirectPartnerReq(indirect_partner_id=demo.TIANFU, amount=D("1000.00"))
        )
    )
    from_reseller = sdk.reclaim_indirect_partner_account(
        ReclaimIndirectPartnerAccountRequest(
            body=ReclaimIndirectPartnerAccountReq(
                indirect_partner_id=demo.TIANFU, amount=D("400.00")
            )
        )
    )
    trans_ids = [funded.transfer_id, back.trans_id, to_reseller.transfer_id, from_reseller.trans_id]
    assert all(trans_ids) and len(set(trans_ids)) == 4

    to_theirs = sdk.update_customer_account_amount(UpdateCustomerAccountAmountRequest(
        body=AdjustAccountReq(customer_id=demo.SHU_BROCADE, amount=D("100.00"),
                              indirect_partner_id=demo.TIANFU)))  # fmt: skip
    assert to_theirs.transfer_id

    with pytest.raises(ClientRequestException) as info:
        sdk.update_customer_account_amount(UpdateCustomerAccountAmountRequest(
            body=AdjustAccountReq(customer_id=demo.XINGHE, amount=D("750000.00"))))  # fmt: skip
    assert (info.value.status_code, info.value.error_code) == (400, "CBC.99005003")

    asked = [CustomerInfoV2(customer_id=c) for c in (demo.XINGHE, demo.MINGYUAN)]
    balances = sdk.list_customers_balances_detail(
        ListCustomersBalancesDetailRequest(body=QueryCustomersBalancesReq(customer_infos=asked))
    )
    assert [(b.customer_id, b.amount) for b in balances.customer_balances] == [
        (demo.XINGHE, D("12300.00"))  # the referral customer is dropped
    ]
    ledger = sdk.list_partner_adjust_records(
        ListPartnerAdjustRecordsRequest(customer_id=demo.XINGHE, limit=100)
    )
    assert [(r.operation_type, r.amount, r.trans_id) for r in ledger.records][-2:] == [
        ("SOURCE_OPERATION_BEADJUST", "500.00", funded.transfer_id),
        ("SOURCE_OPERATION_BERETRIEVE", "200.00", back.trans_id),
    ]

    # The balances add up: 800000.00 - 500.00 + 200.00 - 1000.00 + 400.00 for the partner,
    # 57000.00 + 1000.00 - 400.00 - 100.00 for tianfu-cloud, whose customer got the 100.00.
    assert allocatable(sdk) == (D("799100.00"), D("50000.00"))
    assert allocatable(sdk, demo.TIANFU) == (D("57500.00"), D("0.00"))
    customers = state(served_url)["customers"]
    assert customers[demo.SHU_BROCADE]["amount"] == "3100.00"
    sdk_calls = [c for c in calls(served_url) if c["operation"]]
    assert {c["caller"]["account_id"] for c in sdk_calls} == {DEFAULT_DOMAIN_ID}


def test_the_other_operations_answer_the_sdk(sdk: Any, served_url: str) -> None:
    customers = sdk.list_sub_customers(
        ListSubCustomersRequest(body=QuerySubCustomerListReq(limit=100))
    )
    assert customers.count == len(customers.customer_infos) == demo.CUSTOMER_COUNT
    resellers = sdk.list_indirect_partners(
        ListIndirectPartnersRequest(body=QueryIndirectPartnersReq(limit=100))
    )
    assert resellers.count == 3
    resources = sdk.list_pay_per_use_customer_resources(ListPayPerUseCustomerResourcesRequest(
        body=QueryResourcesReq(customer_id=demo.XINGHE, limit=100)))  # fmt: skip
    assert resources.total_count == demo.XINGHE_RESOURCE_COUNT
    quotas = sdk.list_quota_coupons(ListQuotaCouponsRequest(body=QueryCouponQuotasReqExt()))
    assert quotas.total_count == 3
    issue = sdk.update_coupon_quotas(UpdateCouponQuotasRequest(body=AdjustCouponQuotasReq(
        quota_id=demo.QUOTA_MAIN, indirect_partner_ids=[demo.PENGCHENG],
        quota_amount=D("1000.00"))))  # fmt: skip
    (child,) = issue.simple_quota_infos
    reclaim = sdk.reclaim_coupon_quotas(ReclaimCouponQuotasRequest(
        body=ReclaimCouponQuotasReq(quota_ids=[child.quota_id], remark="sdk smoke")))  # fmt: skip
    assert [(q.quota_id, q.quota_balance) for q in reclaim.simple_quota_infos] == [
        (child.quota_id, D("0.00"))
    ]
    issued = sdk.list_issued_coupon_quotas(ListIssuedCouponQuotasRequest(quota_id=child.quota_id))
    assert issued.quotas[0].quota_status == 6
    records = sdk.list_coupon_quotas_records(
        ListCouponQuotasRecordsRequest(quota_id=child.quota_id, limit=100)
    )
    assert [r.operation_type for r in records.records] == ["10", "11"]
    assert state(served_url)["quotas"][demo.QUOTA_MAIN]["balance"] == "445000.00"
