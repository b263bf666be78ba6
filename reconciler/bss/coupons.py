"""Customer coupons (REFERENCE §7.13-§7.16): typed records and filters, and the API's limits; the
client's methods are :class:`reconciler.bss.coupons_api.CouponsApi`.

::

    result = await client.create_partner_coupons(quota_id, [customer_id], Decimal("500.00"))
    result.successes        # {customer_id: coupon_id}; result.failures: per-customer ItemErrors
    done = await client.reclaim_partner_coupons(coupon_id)   # done.reclaimed / done.failure
    async for coupon in client.iter_issued_partner_coupons(customer_id=customer_id): ...
    async for record in client.iter_partner_coupons_record(coupon_ids=[coupon_id]): ...

Issue and reclaim move voucher value: they are never re-sent once they may have reached the server
(a lost answer or a 5xx raises :class:`~reconciler.errors.OutcomeUnknownError`; settle it from
:meth:`~reconciler.bss.coupons_api.CouponsApi.iter_partner_coupons_record`). A coupon in the
issued list does not name its quota; its records do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from .fields import FieldError, need_int, need_money, need_text, need_time, opt_int, opt_text
from .models import ItemError, item_errors, unaccounted_ids

if TYPE_CHECKING:
    pass

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
