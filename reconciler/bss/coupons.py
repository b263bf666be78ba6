"""Customer coupons (REFERENCE §7.13-§7.16): typed records, request building, and the methods.

::

    result = await client.create_partner_coupons(quota_id, [customer_id], Decimal("500.00"))
    result.successes        # {customer_id: coupon_id}; result.failures: per-customer ItemErrors
    done = await client.reclaim_partner_coupons(coupon_id)   # done.reclaimed / done.failure
    async for coupon in client.iter_issued_partner_coupons(customer_id=customer_id): ...
    async for record in client.iter_partner_coupons_record(coupon_ids=[coupon_id]): ...

Issue and reclaim move voucher value: they are never re-sent once they may have reached the server
(a lost answer or a 5xx raises :class:`~reconciler.errors.OutcomeUnknownError`; settle it from
:meth:`CouponsApi.iter_partner_coupons_record`). A coupon in the issued list does not name its
quota; its records do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from reconciler.errors import ApiError

from . import operations as ops
from .core import ClientCore, _by, _required
from .fields import FieldError, need_int, need_money, need_text, need_time, opt_int, opt_text
from .models import ItemError, Page, item_errors, unaccounted_ids
from .paging import DEFAULT_PREFETCH
from .queries import DEFAULT_PAGE, ListSpec, id_batch, money_amount

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T", str, "str | None")

#: Coupon ``status``: 1 not activated, 2 usable, 3 used, 4 expired, 5 reclaimed (REFERENCE §6).
COUPON_USABLE = 2
#: ``reclaim_partner_coupons``: the coupon has already expired or been reclaimed (HTTP 200).
NOT_RECLAIMABLE = "CBC.99000048"
#: Not documented; the client (like the emulator) sends at most 100 customers per issue.
MAX_ISSUE_CUSTOMERS = 100
MAX_RESTRICTIONS = 10
#: A coupon id the API accepts in a reclaim or a listing filter (§7.14, §7.15).
MAX_COUPON_ID = 64
MAX_MEMO = 256
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True, slots=True)
class CouponLimit:
    """One usage restriction of a coupon (``ICouponUseLimitInfoV2``): which coupon matches a
    declared one rests on ``limit_key`` and ``value1``; ``value2`` is only shown."""

    limit_key: str
    value1: str
    value2: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CouponLimit:
        return cls(
            need_text(data, "limit_key"), need_text(data, "value1"), opt_text(data, "value2")
        )


def _limits(data: Mapping[str, Any]) -> tuple[CouponLimit, ...]:
    """``use_limits``: a list of objects (empty when the coupon is unrestricted), never absent:
    which coupon matches a declared one rests on it."""
    raw = data.get("use_limits")
    if raw is None:
        raise FieldError("use_limits", "is missing")
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        raise FieldError("use_limits", "is not a list of objects")
    found = []
    for n, item in enumerate(raw):
        try:
            found.append(CouponLimit.from_api(item))
        except FieldError as err:
            raise FieldError(f"use_limits[{n}].{err.field}", err.problem) from None
    return tuple(found)


@dataclass(frozen=True, slots=True)
class PartnerCoupon:
    """A coupon held by a customer (``IQueryUserPartnerCouponsResultV2``).

    Read strictly: the id, holder, status, face value, balance, validity and restrictions are
    what plans match declared coupons against and what reclaims move, so each must be there
    (:mod:`reconciler.bss.fields`). The list does not name the coupon's quota: its issue record
    does (:class:`CouponRecord`).
    """

    coupon_id: str
    customer_id: str
    status: int  # 1 not activated, 2 usable, 3 used, 4 expired, 5 reclaimed
    coupon_type: int | None  # 1 cash voucher, 4 cash coupon
    face_value: Decimal
    balance: Decimal
    effective_time: str
    expire_time: str
    create_time: str | None
    last_used_time: str | None
    measure_id: int | None  # 1 = yuan
    use_limits: tuple[CouponLimit, ...]

    @property
    def usable(self) -> bool:
        """Only a usable coupon can be reclaimed (its whole balance)."""
        return self.status == COUPON_USABLE

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PartnerCoupon:
        return cls(
            coupon_id=_coupon_id(need_text(data, "coupon_id")),
            customer_id=need_text(data, "customer_id"),
            status=need_int(data, "status"),
            coupon_type=opt_int(data, "coupon_type"),
            face_value=need_money(data, "face_value", non_negative=True),
            balance=need_money(data, "balance", non_negative=True),
            effective_time=need_text(data, "effective_time"),
            expire_time=need_text(data, "expire_time"),
            create_time=opt_text(data, "create_time"),
            last_used_time=opt_text(data, "last_used_time"),
            measure_id=opt_int(data, "measure_id"),
            use_limits=_limits(data),
        )


def _coupon_id(value: T) -> T:
    """A coupon id the API accepts back (1..64 characters, §7.14/§7.15): one it could not be
    asked about or reclaimed by cannot be settled or reclaimed, so it is refused when read."""
    if value is not None and len(value) > MAX_COUPON_ID:
        limit = f"more than the {MAX_COUPON_ID} the API accepts for a coupon id"
        raise FieldError("coupon_id", f"has {len(value)} characters, {limit}")
    return value


@dataclass(frozen=True, slots=True)
class CouponRecord:
    """One line of the coupon audit log (``CouponRecordV2``): "1" issue, "2" manual reclaim,
    "4" reclaim on expiry, ... (§7.16); ``result`` "0" success, "-1" failure.

    Read strictly: settlement and the quota a coupon came from rest on the id, operation type,
    quota, customer, amount, time and result: the amount must not be negative, the time must be
    the REFERENCE's ``yyyy-MM-ddTHH:mm:ssZ`` exactly (parsed to an aware UTC ``datetime``, never
    compared as text). ``coupon_id`` may be absent (a failed issue created no coupon); the record
    names no operator.
    """

    id: str
    operation_type: str
    quota_id: str
    quota_type: int | None
    coupon_id: str | None
    customer_id: str
    operation_amount: Decimal
    operation_time: datetime  # UTC, to the second: compared, never as text
    result: str
    remark: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CouponRecord:
        return cls(
            id=need_text(data, "id"),
            operation_type=need_text(data, "operation_type"),
            quota_id=need_text(data, "quota_id"),
            quota_type=opt_int(data, "quota_type"),
            coupon_id=_coupon_id(opt_text(data, "coupon_id") or None),
            customer_id=need_text(data, "customer_id"),
            operation_amount=need_money(data, "operation_amount", non_negative=True),
            operation_time=need_time(data, "operation_time"),
            result=need_text(data, "result"),
            remark=opt_text(data, "remark"),
        )


@dataclass(frozen=True, slots=True)
class CouponIssueResult:
    """``create_partner_coupons``: customer id -> its new coupon id, and per-customer failures.

    ``unaccounted`` lists requested customers the answer mentions in neither list: their outcome
    is unknown and must be settled from the coupon records. A success entry without both the
    customer id and the coupon id proves nothing: that customer stays unaccounted (those named
    without a coupon id are also in ``no_coupon_id``, for the words).
    """

    successes: dict[str, str]
    failures: tuple[ItemError, ...]
    unaccounted: tuple[str, ...] = ()
    no_coupon_id: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: object, requested: Sequence[str] = ()) -> CouponIssueResult:
        infos = data.get("coupon_infos") if isinstance(data, Mapping) else None
        named = [
            i for i in (infos if isinstance(infos, list) else ()) if isinstance(i, Mapping)
            and _named(i, "id")
        ]  # fmt: skip
        successes = {i["id"]: i["coupon_id"] for i in named if _named(i, "coupon_id")}
        lacking = tuple(i["id"] for i in named if i["id"] not in successes)
        failures = item_errors(data)
        return cls(successes, failures, unaccounted_ids(requested, successes, failures), lacking)

    def unknown_detail(self, customer_id: str) -> str:
        """Why a requested customer's outcome is unknown."""
        if customer_id in self.no_coupon_id:
            return "the answer lists it as issued, but without the coupon_id it was issued"
        return "not mentioned in the answer"


def _named(item: Mapping[str, Any], key: str) -> bool:
    value = item.get(key)
    return isinstance(value, str) and bool(value)


@dataclass(frozen=True, slots=True)
class CouponReclaimResult:
    """``reclaim_partner_coupons``: reclaimed (HTTP 204), or the failure the API answered inside
    HTTP 200 (``CBC.99000048``: already expired or reclaimed; nothing moved)."""

    coupon_id: str
    failure: ItemError | None = None

    @property
    def reclaimed(self) -> bool:
        return self.failure is None


class IssuedCouponFilters(TypedDict, total=False):
    coupon_id: str
    customer_id: str
    order_id: str
    coupon_type: int  # 1 cash voucher, 4 cash coupon
    status: int  # 1..5
    create_time_begin: str
    create_time_end: str
    effective_time_begin: str
    effective_time_end: str
    expire_time_begin: str
    expire_time_end: str
    indirect_partner_id: str


class CouponRecordFilters(TypedDict, total=False):
    operation_types: Sequence[str]  # "1".."9", repeated in the query
    quota_id: str
    quota_type: int
    coupon_ids: Sequence[str]  # repeated in the query
    customer_id: str
    operation_time_begin: str
    operation_time_end: str
    result: str  # "0" success, "-1" failure
    indirect_partner_id: str


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
