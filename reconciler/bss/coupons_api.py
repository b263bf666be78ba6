"""The customer-coupon methods of the client (REFERENCE §7.13-§7.16) and the requests they
build; the records they answer with are :mod:`reconciler.bss.coupons`.

Issue and reclaim move voucher value: they are never re-sent once they may have reached the server
(a lost answer or a 5xx raises :class:`~reconciler.errors.OutcomeUnknownError`; settle it from
:meth:`CouponsApi.iter_partner_coupons_record`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.errors import ApiError

from . import operations as ops
from .core import ClientCore, _by, _required
from .coupons import (
    MAX_COUPON_ID,
    MAX_ISSUE_CUSTOMERS,
    MAX_MEMO,
    MAX_RESTRICTIONS,
    CouponIssueResult,
    CouponReclaimResult,
    CouponRecord,
    CouponRecordFilters,
    IssuedCouponFilters,
    PartnerCoupon,
)
from .models import ItemError, Page
from .paging import DEFAULT_PREFETCH
from .queries import DEFAULT_PAGE, ListSpec, id_batch, money_amount

if TYPE_CHECKING:
    from typing_extensions import Unpack

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


ISSUED_COUPONS = ListSpec(
    ops.LIST_ISSUED_PARTNER_COUPONS,
    ("coupon_id", "customer_id", "order_id", "coupon_type", "status", "create_time_begin",
     "create_time_end", "effective_time_begin", "effective_time_end", "expire_time_begin",
     "expire_time_end", "offset", "limit", "indirect_partner_id"),
    "user_coupons",
    "total_count",
    in_body=False,
)  # fmt: skip
COUPON_RECORDS = ListSpec(
    ops.LIST_PARTNER_COUPONS_RECORD,
    ("operation_types", "quota_id", "quota_type", "coupon_ids", "customer_id",
     "operation_time_begin", "operation_time_end", "result", "offset", "limit",
     "indirect_partner_id"),
    "records",
    "total_count",
    in_body=False,
)  # fmt: skip


def timestamp(value: str | None, name: str) -> str | None:
    """``None`` or a UTC time written ``yyyy-MM-ddTHH:mm:ssZ``."""
    if value is not None and not _TIMESTAMP.match(value):
        raise ValueError(f"{name} must look like 2027-01-01T00:00:00Z, got {value!r}")
    return value


def _restriction(values: Sequence[str] | None, name: str) -> list[str] | None:
    if values is None:
        return None
    return id_batch(values, MAX_RESTRICTIONS, name)


def issue_body(
    quota_id: str,
    customer_ids: Sequence[str],
    face_value: object,
    **options: Any,
) -> dict[str, Any]:
    """The ``CreatePartnerCouponsReq`` body in the REFERENCE's field order; ``None`` left out."""
    memo = options.get("memo")
    if memo is not None and len(memo) > MAX_MEMO:
        raise ValueError(f"create_partner_coupons: memo is longer than {MAX_MEMO} characters")
    return {
        "quota_id": _required(quota_id, "quota_id"),
        "customer_ids": id_batch(customer_ids, MAX_ISSUE_CUSTOMERS, "customer_ids"),
        "face_value": money_amount(face_value, "face_value"),
        "valid_time": timestamp(options.get("valid_time"), "valid_time"),
        "expire_time": timestamp(options.get("expire_time"), "expire_time"),
        "cloud_service_types": _restriction(
            options.get("cloud_service_types"), "cloud_service_types"
        ),
        "product_ids": _restriction(options.get("product_ids"), "product_ids"),
        "memo": memo,
        "indirect_partner_id": options.get("indirect_partner_id") or None,
    }


class CouponsApi(ClientCore):
    """The customer-coupon methods of :class:`~reconciler.bss.client.BssClient`."""

    async def create_partner_coupons(
        self,
        quota_id: str,
        customer_ids: Sequence[str],
        face_value: Decimal,
        *,
        valid_time: str | None = None,
        expire_time: str | None = None,
        cloud_service_types: Sequence[str] | None = None,
        product_ids: Sequence[str] | None = None,
        memo: str | None = None,
        indirect_partner_id: str | None = None,
    ) -> CouponIssueResult:
        """§7.13: one coupon of ``face_value`` per customer (1..100), cut from ``quota_id``.

        Moves value. Per-customer failures (``CBC.99000013`` insufficient quota, ``CBC.99000014``
        not resale, ``CBC.99000035`` not your customer) come back in ``failures``; refusals of the
        whole call raise :class:`~reconciler.errors.ApiError`; a lost answer or a 5xx raises
        :class:`~reconciler.errors.OutcomeUnknownError`. Restrictions may only narrow the
        quota's; ``indirect_partner_id`` acts for that reseller (its customers, its quota).
        """
        body = issue_body(
            quota_id, customer_ids, face_value, valid_time=valid_time, expire_time=expire_time,
            cloud_service_types=cloud_service_types, product_ids=product_ids, memo=memo,
            indirect_partner_id=indirect_partner_id,
        )  # fmt: skip
        data = await self._call(ops.CREATE_PARTNER_COUPONS, body=body)
        return CouponIssueResult.from_api(data, body["customer_ids"])

    async def reclaim_partner_coupons(
        self, coupon_id: str, *, indirect_partner_id: str | None = None
    ) -> CouponReclaimResult:
        """§7.14: take a usable coupon's whole balance back to its quota. Moves value.

        ``CBC.99000048`` (already expired or reclaimed), answered inside HTTP 200, comes back as
        the result's ``failure``; every other refusal raises.
        """
        if not coupon_id or len(coupon_id) > MAX_COUPON_ID:
            raise ValueError("reclaim_partner_coupons: coupon_id must be 1..64 characters")
        body = {"coupon_id": coupon_id, "indirect_partner_id": indirect_partner_id or None}
        try:
            await self._call(ops.RECLAIM_PARTNER_COUPONS, body=body)
        except ApiError as exc:
            if not 200 <= exc.status < 300:
                raise
            return CouponReclaimResult(
                coupon_id, ItemError(coupon_id, exc.error_code, exc.error_msg)
            )
        return CouponReclaimResult(coupon_id)

    async def list_issued_partner_coupons(
        self,
        *,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
        **filters: Unpack[IssuedCouponFilters],
    ) -> Page[PartnerCoupon]:
        """§7.15: one page (limit 1..100) of the coupons the partner's customers hold."""
        return await self._page(ISSUED_COUPONS, PartnerCoupon.from_api, offset, limit, filters)

    def iter_issued_partner_coupons(
        self,
        *,
        page_size: int = DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[IssuedCouponFilters],
    ) -> AsyncIterator[PartnerCoupon]:
        """Every coupon matching ``filters``, de-duplicated by ``coupon_id``."""
        parse, key = PartnerCoupon.from_api, _by("coupon_id")
        return self._iter(ISSUED_COUPONS, parse, key, filters, page_size, prefetch)

    async def all_issued_partner_coupons(
        self, *, page_size: int = DEFAULT_PAGE, **filters: Unpack[IssuedCouponFilters]
    ) -> list[PartnerCoupon]:
        return [
            item async for item in self.iter_issued_partner_coupons(page_size=page_size, **filters)
        ]

    async def list_partner_coupons_record(
        self,
        *,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
        **filters: Unpack[CouponRecordFilters],
    ) -> Page[CouponRecord]:
        """§7.16: one page (limit 1..100) of the coupon audit log, oldest first."""
        return await self._page(COUPON_RECORDS, CouponRecord.from_api, offset, limit, filters)

    def iter_partner_coupons_record(
        self,
        *,
        page_size: int = DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[CouponRecordFilters],
    ) -> AsyncIterator[CouponRecord]:
        """Every coupon record matching ``filters``, de-duplicated by record ``id``."""
        parse, key = CouponRecord.from_api, _by("id")
        return self._iter(COUPON_RECORDS, parse, key, filters, page_size, prefetch)

    async def all_partner_coupons_record(
        self, *, page_size: int = DEFAULT_PAGE, **filters: Unpack[CouponRecordFilters]
    ) -> list[CouponRecord]:
        return [
            item async for item in self.iter_partner_coupons_record(page_size=page_size, **filters)
        ]
