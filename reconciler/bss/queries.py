"""Request building and client-side validation.

The filter ``TypedDict`` s mirror the REFERENCE's filters for each list call; bodies are built in
the REFERENCE's field order with unused filters left out. Write arguments are validated before
anything is sent: batch sizes, money precision, enums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from .jsonutil import CENT
from .operations import (
    LIST_COUPON_QUOTAS_RECORDS,
    LIST_CUSTOMER_RESOURCES,
    LIST_INDIRECT_PARTNERS,
    LIST_ISSUED_COUPON_QUOTAS,
    LIST_QUOTA_COUPONS,
    LIST_SUB_CUSTOMERS,
    Operation,
)

MAX_ISSUE_RESELLERS = 100
MAX_RECLAIM_QUOTAS = 10
MAX_REMARK = 256
#: §7.3/§10.2: the v2 maximum is unknown (v1 allowed 500); the REFERENCE says keep <= 100.
MAX_RESOURCE_PAGE = 100
DEFAULT_PAGE = 100


class SubCustomerFilters(TypedDict, total=False):
    account_name: str
    customer: str
    label: str
    association_type: str
    associated_on_begin: str
    associated_on_end: str
    customer_id: str
    indirect_partner_id: str


class IndirectPartnerFilters(TypedDict, total=False):
    account_name: str
    associated_on_begin: str
    associated_on_end: str
    indirect_partner_id: str


class ResourceFilters(TypedDict, total=False):
    resource_ids: Sequence[str]
    order_id: str
    only_main_resource: int
    status_list: Sequence[int]
    expire_time_begin: str
    expire_time_end: str
    service_type_code: str


class QuotaCouponFilters(TypedDict, total=False):
    quota_ids: Sequence[str]
    quota_status_list: Sequence[int]
    quota_type: int
    create_time_begin: str
    create_time_end: str
    effective_time_begin: str
    effective_time_end: str
    expire_time_begin: str
    expire_time_end: str
    indirect_partner_id: str


class IssuedQuotaFilters(TypedDict, total=False):
    quota_id: str
    indirect_partner_id: str
    parent_quota_id: str  # "" is a filter too (REFERENCE §7.11)


class QuotaRecordFilters(TypedDict, total=False):
    indirect_partner_id: str
    quota_id: str
    operation_time_begin: str
    operation_time_end: str
    parent_quota_id: str
    operation_type: str  # "10" issue, "11" reclaim


@dataclass(frozen=True, slots=True)
class ListSpec:
    """How one list operation pages: its fields in wire order, where items and total live."""

    op: Operation
    fields: tuple[str, ...]
    items_key: str
    total_key: str
    max_limit: int = 100
    in_body: bool = True  # POST body, else GET query parameters


SUB_CUSTOMERS = ListSpec(
    LIST_SUB_CUSTOMERS,
    ("account_name", "customer", "offset", "limit", "label", "association_type",
     "associated_on_begin", "associated_on_end", "customer_id", "indirect_partner_id"),
    "customer_infos",
    "count",
)  # fmt: skip
INDIRECT_PARTNERS = ListSpec(
    LIST_INDIRECT_PARTNERS,
    ("account_name", "associated_on_begin", "associated_on_end", "offset", "limit",
     "indirect_partner_id"),
    "indirect_partners",
    "count",
)  # fmt: skip
CUSTOMER_RESOURCES = ListSpec(
    LIST_CUSTOMER_RESOURCES,
    ("resource_ids", "order_id", "only_main_resource", "status_list", "offset", "limit",
     "expire_time_begin", "expire_time_end", "service_type_code", "customer_id"),
    "data",
    "total_count",
    max_limit=MAX_RESOURCE_PAGE,
)  # fmt: skip
QUOTA_COUPONS = ListSpec(
    LIST_QUOTA_COUPONS,
    ("quota_ids", "quota_status_list", "quota_type", "create_time_begin", "create_time_end",
     "effective_time_begin", "effective_time_end", "expire_time_begin", "expire_time_end",
     "offset", "limit", "indirect_partner_id"),
    "quotas",
    "total_count",
)  # fmt: skip
ISSUED_QUOTAS = ListSpec(
    LIST_ISSUED_COUPON_QUOTAS,
    ("quota_id", "indirect_partner_id", "parent_quota_id", "offset", "limit"),
    "quotas",
    "total_count",
    in_body=False,
)
QUOTA_RECORDS = ListSpec(
    LIST_COUPON_QUOTAS_RECORDS,
    ("indirect_partner_id", "quota_id", "operation_time_begin", "operation_time_end",
     "parent_quota_id", "operation_type", "offset", "limit"),
    "records",
    "total_count",
    in_body=False,
)  # fmt: skip


def list_params(
    spec: ListSpec, offset: int, limit: int, filters: Mapping[str, object]
) -> dict[str, Any]:
    """Filters plus paging, in wire order, ``None`` left out; unknown names refused."""
    unknown = set(filters) - set(spec.fields) | ({"offset", "limit"} & set(filters))
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"{spec.op.name} has no filter {names}")
    if not 1 <= limit <= spec.max_limit:
        raise ValueError(f"{spec.op.name}: limit must be 1..{spec.max_limit}, got {limit}")
    if offset < 0:
        raise ValueError(f"{spec.op.name}: offset must be >= 0, got {offset}")
    values = {**filters, "offset": offset, "limit": limit}
    return {name: values[name] for name in spec.fields if values.get(name) is not None}


def money_amount(value: object, what: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, as ``Decimal`` quantised to 0.01."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TypeError(f"{what} must be a Decimal (got {type(value).__name__})")
    amount = Decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"{what} must be a positive amount, got {value}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"{what} {value} has more than 2 decimal places")
    return amount.quantize(CENT)


def id_batch(ids: Sequence[str], maximum: int, what: str) -> list[str]:
    """1..``maximum`` distinct non-empty ids."""
    if isinstance(ids, str):
        raise TypeError(f"{what} must be a list of ids, not a string")
    batch = list(ids)
    if not 1 <= len(batch) <= maximum:
        raise ValueError(f"{what}: between 1 and {maximum} ids per call, got {len(batch)}")
    if any(not isinstance(i, str) or not i for i in batch):
        raise ValueError(f"{what}: every id must be a non-empty string")
    if len(set(batch)) != len(batch):
        raise ValueError(f"{what}: duplicate ids in one call")
    return batch


def issue_body(quota_id: str, reseller_ids: Sequence[str], amount: object) -> dict[str, Any]:
    if not quota_id:
        raise ValueError("update_coupon_quotas: quota_id is required")
    return {
        "quota_id": quota_id,
        "indirect_partner_ids": id_batch(reseller_ids, MAX_ISSUE_RESELLERS, "indirect_partner_ids"),
        "quota_amount": money_amount(amount, "quota_amount"),
    }


def reclaim_body(quota_ids: Sequence[str], remark: str | None) -> dict[str, Any]:
    if remark is not None and len(remark) > MAX_REMARK:
        raise ValueError(f"reclaim_coupon_quotas: remark is longer than {MAX_REMARK} characters")
    return {"quota_ids": id_batch(quota_ids, MAX_RECLAIM_QUOTAS, "quota_ids"), "remark": remark}


def auto_renew_body(auto_renew_times: int | None, period_type: str | None) -> dict[str, Any]:
    if auto_renew_times is not None and not 0 <= auto_renew_times <= 99:
        raise ValueError("auto_renew_times must be 0..99 (0 = unlimited)")
    if period_type is not None and period_type not in ("MONTH", "YEAR"):
        raise ValueError('period_type must be "MONTH" or "YEAR"')
    return {"auto_renew_times": auto_renew_times, "period_type": period_type}


_RENEW_CONFIG = {
    "DEDUCTION_DATE": frozenset(str(d) for d in range(2, 8)),
    "EXPIRE_DATE": frozenset({"-1", *(str(d) for d in range(1, 29))}),
}


def renew_config_body(config_name: str, config_value: str) -> dict[str, Any]:
    allowed = _RENEW_CONFIG.get(config_name)
    if allowed is None:
        raise ValueError('config_name must be "DEDUCTION_DATE" or "EXPIRE_DATE"')
    if config_value not in allowed:
        hint = '"2".."7"' if config_name == "DEDUCTION_DATE" else '"1".."28" or "-1"'
        raise ValueError(f"{config_name}: config_value must be {hint}, got {config_value!r}")
    return {"config_name": config_name, "config_value": config_value}


def renewal_body(
    resource_ids: Sequence[str], period_type: int, period_num: int, is_auto_pay: int
) -> dict[str, Any]:
    limits = {2: 11, 3: 3}
    if period_type not in limits:
        raise ValueError("period_type must be 2 (month) or 3 (year)")
    if not 1 <= period_num <= limits[period_type]:
        raise ValueError(f"period_num must be 1..{limits[period_type]} for this period_type")
    if is_auto_pay not in (0, 1):
        raise ValueError("is_auto_pay must be 0 or 1")
    return {
        "resource_ids": id_batch(resource_ids, 10, "resource_ids"),
        "period_type": period_type,
        "period_num": period_num,
        "is_auto_pay": is_auto_pay,
    }


def resource_path_id(resource_id: str) -> str:
    if not resource_id or len(resource_id) > 64:
        raise ValueError("resource_id must be 1..64 characters")
    return resource_id
