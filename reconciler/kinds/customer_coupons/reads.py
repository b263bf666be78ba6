"""The reads CustomerCoupons declares (the shared reader schedules and paces them), and how
:class:`~reconciler.kinds.base.LiveState` becomes the :class:`.live.CouponsLive` the diff takes.

* For the partner's own customers (referenced as customers, resolved by the shared reader, their
  quotas read by ID with every other quota a manifest names): each customer's coupons
  (``list_issued_partner_coupons`` by ``customer_id``) and its issue records
  (``list_partner_coupons_record``, ``operation_types=1``, by ``customer_id``), 100 a page.
* For a reseller's customers (the reseller is referenced; its customers, quotas, coupons and
  records are only listed with ``indirect_partner_id``): one read per reseller that lists all
  four, 100 a page.
* Once per plan: the API's clock (the ``Date`` of an answer), which validity is judged by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from reconciler.bss.coupons import CouponRecord, PartnerCoupon
from reconciler.kinds.reads import EachCall, EachListing, Once

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from reconciler.bss.client import BssClient
    from reconciler.bss.models import CouponQuota, Customer, Page

PAGE = 100
ISSUE = "1"
T = TypeVar("T")


@dataclass(frozen=True)
class ResellerCoupons:
    """Everything the plan needs of one reseller's coupon business."""

    customers: tuple[Customer, ...]
    quotas: tuple[CouponQuota, ...]
    coupons: tuple[PartnerCoupon, ...]
    issue_records: tuple[CouponRecord, ...]


async def _coupons(client: BssClient, cid: str, offset: int, limit: int) -> Page[PartnerCoupon]:
    return await client.list_issued_partner_coupons(customer_id=cid, offset=offset, limit=limit)


async def _records(client: BssClient, cid: str, offset: int, limit: int) -> Page[CouponRecord]:
    return await client.list_partner_coupons_record(
        customer_id=cid, operation_types=[ISSUE], offset=offset, limit=limit
    )


async def _all(items: AsyncIterator[T]) -> tuple[T, ...]:
    return tuple([item async for item in items])


async def _reseller(client: BssClient, rid: str) -> ResellerCoupons:
    return ResellerCoupons(
        customers=await _all(client.iter_sub_customers(indirect_partner_id=rid, page_size=PAGE)),
        quotas=await _all(client.iter_quota_coupons(indirect_partner_id=rid, page_size=PAGE)),
        coupons=await _all(
            client.iter_issued_partner_coupons(indirect_partner_id=rid, page_size=PAGE)
        ),
        issue_records=await _all(
            client.iter_partner_coupons_record(
                indirect_partner_id=rid, operation_types=[ISSUE], page_size=PAGE
            )
        ),
    )


async def _now(client: BssClient) -> float:
    await client.list_issued_partner_coupons(limit=1)  # an answer's Date header: the API's clock
    return client.api_time()


COUPONS: EachListing[PartnerCoupon] = EachListing(
    name="customer-coupons/coupons",
    api="list_issued_partner_coupons",
    subject="customer",
    page=PAGE,
    fetch=_coupons,
    key=lambda c: c.coupon_id,
    label="coupon lists",
)
ISSUE_RECORDS: EachListing[CouponRecord] = EachListing(
    name="customer-coupons/issue-records",
    api="list_partner_coupons_record",
    subject="customer",
    page=PAGE,
    fetch=_records,
    key=lambda r: r.id,
    label="coupon record lists",
)
RESELLERS: EachCall[ResellerCoupons] = EachCall(
    name="customer-coupons/resellers",
    api="list_sub_customers",
    subject="reseller",
    fetch=_reseller,
    label="resellers' customer coupons",
)
NOW: Once[float] = Once(
    name="customer-coupons/now",
    api="list_issued_partner_coupons",
    fetch=_now,
    label="the API's clock",
)
READS = (COUPONS, ISSUE_RECORDS, RESELLERS, NOW)
