"""Typed, frozen, slotted records of what the API returns.

Only the fields the reconciler and its plan display use are kept: these objects are held in
memory by the hundred thousand. Money is ``Decimal``; times stay the API's UTC strings
(``yyyy-MM-ddTHH:mm:ssZ``) where they are only shown, and are parsed strictly to aware
``datetime`` values where a decision compares them (a record's ``operation_time``). Each
``from_api`` accepts one item of the JSON answer.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .fields import FieldError, need_int, need_money, need_text, need_time, opt_int, opt_money
from .fields import opt_text as _str
from .jsonutil import to_money

T = TypeVar("T")

#: ``expire_policy`` value that means auto-renew is on (REFERENCE §6).
EXPIRE_POLICY_AUTO_RENEW = 3
#: ``quota_status`` of an issued quota that was reclaimed.
QUOTA_STATUS_RECLAIMED = 6


def str_field(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def int_field(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    return int(value)


def money_field(data: Mapping[str, Any], key: str) -> Decimal | None:
    return to_money(data.get(key))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _shared(value: object) -> str | None:
    """A string that many objects hold (a service code, a region): one interned copy."""
    return None if value is None else sys.intern(str(value))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list call: its items and the API's total for the whole filter."""

    items: tuple[T, ...]
    total: int


class Customer:
    """A customer record (``customer_infos`` item). Frozen; compared by its fields.

    A plan of 100,000 customers keeps one each, mostly with only its ID, account name and
    account manager (:mod:`reconciler.plan.kept`): the fields rarely used sit in one tuple, or
    ``None`` when all are, so a kept record is 64 bytes, not 96 as a dataclass of eight."""

    __slots__ = ("_more", "account_manager", "account_name", "customer_id")

    #: Every field, in constructor order.
    FIELDS = (
        "customer_id", "account_name", "name", "association_type", "label",
        "account_manager", "telephone", "email",
    )  # fmt: skip
    customer_id: str
    account_name: str | None
    account_manager: str | None  # account_managers[0].account_name
    _more: tuple[str | None, ...] | None  # name, association_type, label, telephone, email

    def __init__(
        self,
        customer_id: str,
        account_name: str | None,
        name: str | None,  # real-name-verified name (``customer``)
        association_type: str | None,  # "1" referral, "2" resale
        label: str | None,
        account_manager: str | None,
        telephone: str | None,
        email: str | None,
    ) -> None:
        more = (name, association_type, label, telephone, email)
        setter = object.__setattr__
        setter(self, "customer_id", customer_id)
        setter(self, "account_name", account_name)
        setter(self, "account_manager", account_manager)
        setter(self, "_more", None if more == (None,) * 5 else more)

    def _get(self, index: int) -> str | None:
        return None if self._more is None else self._more[index]

    name = property(lambda self: self._get(0))
    association_type = property(lambda self: self._get(1))
    label = property(lambda self: self._get(2))
    telephone = property(lambda self: self._get(3))
    email = property(lambda self: self._get(4))

    def replace(self, **changes: str | None) -> Customer:
        """A copy with ``changes`` (field name -> value)."""
        return Customer(**{f: changes.get(f, getattr(self, f)) for f in self.FIELDS})

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Customer is frozen: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Customer is frozen: cannot delete {name}")

    def _values(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, f) for f in self.FIELDS)

    def __reduce__(self) -> tuple[type[Customer], tuple[str | None, ...]]:
        return (Customer, self._values())  # copy and pickle build it again, frozen

    def __eq__(self, other: object) -> bool:
        if type(other) is not Customer:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.FIELDS)
        return f"Customer({shown})"

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Customer:
        managers = data.get("account_managers") or []
        if not isinstance(managers, list) or not all(isinstance(m, Mapping) for m in managers):
            raise FieldError("account_managers", "is not a list of objects")
        first = managers[0] if managers else {}
        return cls(
            customer_id=need_text(data, "customer_id"),
            account_name=_str(data, "account_name"),
            name=_str(data, "customer"),
            association_type=_str(data, "association_type"),
            label=_str(data, "label"),
            account_manager=_str(first, "account_name") or None,
            telephone=_str(data, "telephone"),
            email=_str(data, "email"),
        )


@dataclass(frozen=True, slots=True)
class IndirectPartner:
    indirect_partner_id: str
    account_name: str | None
    name: str | None
    email: str | None
    mobile_phone: str | None
    associated_on: str | None
    account_manager_id: str | None
    account_manager_name: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IndirectPartner:
        return cls(
            indirect_partner_id=need_text(data, "indirect_partner_id"),
            account_name=_str(data, "account_name"),
            name=_str(data, "name"),
            email=_str(data, "email"),
            mobile_phone=_str(data, "mobile_phone"),
            associated_on=_str(data, "associated_on"),
            account_manager_id=_str(data, "account_manager_id"),
            account_manager_name=_str(data, "account_manager_name"),
        )


@dataclass(frozen=True, slots=True)
class Resource:
    """A yearly/monthly resource (``OrderInstanceV2``) of one customer."""

    resource_id: str
    customer_id: str
    resource_name: str | None
    service_type_code: str | None
    resource_type_code: str | None
    region_code: str | None
    is_main_resource: bool
    parent_resource_id: str | None
    status: int | None  # 2 in use, 3 closed, 4 frozen, 5 expired
    expire_policy: int | None  # 3 = auto-renew
    expire_time: str | None

    @property
    def auto_renew(self) -> bool:
        return self.expire_policy == EXPIRE_POLICY_AUTO_RENEW

    @classmethod
    def from_api(cls, data: Mapping[str, Any], customer_id: str) -> Resource:
        # Half a million of these per large plan: read each field once, and share the strings
        # that take few values (codes, regions, expiry dates) instead of keeping a copy each.
        # Whether a resource is managed and what it needs rests on its id, main flag, service
        # type, status and expire_policy: each must be there.
        get = data.get
        return cls(
            resource_id=need_text(data, "resource_id"),
            customer_id=customer_id,
            resource_name=_str(data, "resource_name"),
            service_type_code=sys.intern(need_text(data, "service_type_code")),
            resource_type_code=_shared(get("resource_type_code")),
            region_code=_shared(get("region_code")),
            is_main_resource=need_int(data, "is_main_resource") == 1,
            parent_resource_id=_str(data, "parent_resource_id") or None,
            status=need_int(data, "status"),
            expire_policy=need_int(data, "expire_policy"),
            expire_time=_text(get("expire_time")),  # one per resource: not interned
        )


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """One restriction of a coupon quota (``QuotaLimitInfo``): its key and each value's
    ``value1``."""

    limit_key: str
    values: tuple[str, ...]


def _quota_limits(data: Mapping[str, Any]) -> tuple[QuotaLimit, ...] | None:
    """``limit_infos``, or ``None`` when absent or not well formed: unknown, never "none".
    Customer coupons inherit these restrictions, so that kind refuses to plan without them."""
    raw = data.get("limit_infos")
    if not isinstance(raw, list):
        return None
    found = []
    for item in raw:
        values = item.get("limit_values") if isinstance(item, Mapping) else None
        key = item.get("limit_key") if isinstance(item, Mapping) else None
        if not isinstance(key, str) or not key or not isinstance(values, list):
            return None
        if not all(isinstance(v, Mapping) and isinstance(v.get("value1"), str) for v in values):
            return None
        found.append(QuotaLimit(key, tuple(str(v["value1"]) for v in values)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class CouponQuota:
    """A coupon quota held by the partner (or, with ``indirect_partner_id``, a reseller)."""

    quota_id: str
    quota_type: int | None
    quota_value: Decimal | None
    balance: Decimal | None
    quota_status: int | None  # 0 normal, 3 invalid, 4 being adjusted, 5 frozen
    currency: str | None
    effective_time: str | None
    expire_time: str | None
    limit_infos: tuple[QuotaLimit, ...] | None = None  # None: not in the answer (unknown)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CouponQuota:
        return cls(
            quota_id=need_text(data, "quota_id"),
            quota_type=opt_int(data, "quota_type"),
            quota_value=opt_money(data, "quota_value", non_negative=True),
            balance=need_money(data, "balance", non_negative=True),
            quota_status=need_int(data, "quota_status"),
            currency=_str(data, "currency"),
            effective_time=_str(data, "effective_time"),
            expire_time=_str(data, "expire_time"),
            limit_infos=_quota_limits(data),
        )


@dataclass(frozen=True, slots=True)
class IssuedQuota:
    """A quota the distributor issued to a reseller (a child of ``parent_quota_id``)."""

    quota_id: str
    parent_quota_id: str | None
    indirect_partner_id: str | None
    indirect_partner_account_name: str | None
    quota_value: Decimal | None
    balance: Decimal | None
    quota_status: int | None  # 0 normal, 3 invalid, 4 adjusting, 5 frozen, 6 reclaimed
    create_time: str | None
    expire_time: str | None

    @property
    def reclaimed(self) -> bool:
        return self.quota_status == QUOTA_STATUS_RECLAIMED

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IssuedQuota:
        return cls(
            quota_id=need_text(data, "quota_id"),
            parent_quota_id=need_text(data, "parent_quota_id"),
            indirect_partner_id=_str(data, "indirect_partner_id"),
            indirect_partner_account_name=_str(data, "indirect_partner_account_name"),
            quota_value=need_money(data, "quota_value", non_negative=True),
            balance=need_money(data, "balance", non_negative=True),
            quota_status=need_int(data, "quota_status"),
            create_time=_str(data, "create_time"),
            expire_time=_str(data, "expire_time"),
        )


@dataclass(frozen=True, slots=True)
class QuotaRecord:
    """One issue ("10") or reclaim ("11") in the distributor's quota audit log."""

    id: str
    operation_type: str | None
    quota_id: str | None
    parent_quota_id: str | None
    amount: Decimal | None
    operation_time: datetime  # UTC, to the second
    result: str | None  # "0" success, "-1" failure
    indirect_partner_id: str | None
    remark: str | None
    operator: str | None = None  # the account name that made it

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> QuotaRecord:
        return cls(
            id=need_text(data, "id"),
            operation_type=need_text(data, "operation_type"),
            quota_id=_str(data, "quota_id"),
            parent_quota_id=need_text(data, "parent_quota_id"),
            amount=need_money(data, "amount", non_negative=True),
            operation_time=need_time(data, "operation_time"),
            result=need_text(data, "result"),
            indirect_partner_id=need_text(data, "indirect_partner_id"),
            remark=_str(data, "remark"),
            operator=_str(data, "operator"),
        )


@dataclass(frozen=True, slots=True)
class ItemError:
    """One failed item of a batch write (``error_details[]``)."""

    id: str
    error_code: str
    error_msg: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ItemError:
        return cls(
            id=str(data.get("id") or ""),
            error_code=str(data.get("error_code") or ""),
            error_msg=str(data.get("error_msg") or ""),
        )


def _entries(value: object) -> list[Mapping[str, Any]]:
    return [i for i in value if isinstance(i, Mapping)] if isinstance(value, list) else []


def _balance(value: object) -> Decimal | None:
    try:
        return to_money(value)
    except (TypeError, ValueError):
        return None


def item_errors(data: object) -> tuple[ItemError, ...]:
    details = data.get("error_details") if isinstance(data, Mapping) else None
    return tuple(ItemError.from_api(d) for d in details or () if isinstance(d, Mapping))


def unaccounted_ids(
    requested: Sequence[str], successes: Mapping[str, object], failures: tuple[ItemError, ...]
) -> tuple[str, ...]:
    failed = {f.id for f in failures}
    return tuple(i for i in requested if i not in successes and i not in failed)


@dataclass(frozen=True, slots=True)
class IssueResult:
    """``update_coupon_quotas``: reseller id -> the reseller's (child) quota id, and failures.

    ``unaccounted`` lists requested resellers the answer mentions in neither list: their outcome
    is unknown and must be settled from the quota records. So are those whose success entry
    lacks the ``quota_id`` it issued to (``no_quota_id``): later attribution rests on it.
    """

    successes: dict[str, str]
    failures: tuple[ItemError, ...]
    unaccounted: tuple[str, ...] = ()
    no_quota_id: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: object, requested: Sequence[str] = ()) -> IssueResult:
        infos = data.get("simple_quota_infos") if isinstance(data, Mapping) else None
        # An entry without the reseller id, or without the quota it issued to, proves nothing:
        # that reseller stays unaccounted (unknown, settled from the records), never "issued".
        named = [i for i in _entries(infos) if isinstance(i.get("id"), str) and i["id"]]
        successes = {
            i["id"]: i["quota_id"]
            for i in named
            if isinstance(i.get("quota_id"), str) and i["quota_id"]
        }
        lacking = tuple(i["id"] for i in named if i["id"] not in successes)
        failures = item_errors(data)
        return cls(successes, failures, unaccounted_ids(requested, successes, failures), lacking)

    def unknown_detail(self, reseller_id: str) -> str:
        """Why an unaccounted reseller's outcome is unknown."""
        if reseller_id in self.no_quota_id:
            return "the answer lists it as issued, but without the quota_id it was issued to"
        return "not mentioned in the answer"


@dataclass(frozen=True, slots=True)
class ReclaimResult:
    """``reclaim_coupon_quotas``: quota id -> its balance after the reclaim, and failures."""

    successes: dict[str, Decimal | None]
    failures: tuple[ItemError, ...]
    unaccounted: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: object, requested: Sequence[str] = ()) -> ReclaimResult:
        infos = data.get("simple_quota_infos") if isinstance(data, Mapping) else None
        successes = {
            str(i["quota_id"]): _balance(i.get("quota_balance"))
            for i in _entries(infos)
            if isinstance(i.get("quota_id"), str) and i["quota_id"]
        }
        failures = item_errors(data)
        return cls(successes, failures, unaccounted_ids(requested, successes, failures))


@dataclass(frozen=True, slots=True)
class RenewalResult:
    """``renewal_resources``: the orders created and the resources that failed."""

    order_ids: tuple[str, ...]
    failures: tuple[ItemError, ...]

    @classmethod
    def from_api(cls, data: object) -> RenewalResult:
        body = data if isinstance(data, Mapping) else {}
        failures = tuple(
            ItemError(
                str(f.get("resource_id") or ""),
                str(f.get("error_code") or ""),
                str(f.get("error_msg") or ""),
            )
            for f in body.get("fail_resource_infos") or ()
            if isinstance(f, Mapping)
        )
        return cls(tuple(str(o) for o in body.get("order_ids") or ()), failures)
