"""The seed format: every entity's fields, their kinds and allowed values (see README.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconciler.emulator import jsonutil
from reconciler.emulator.timefmt import is_timestamp


@dataclass(frozen=True)
class F:
    """One field of a seed entity: its kind, whether it is required, allowed values."""

    kind: str  # str | int | bool | money | decimal | time | list | map | any
    required: bool = False
    enum: tuple[Any, ...] | None = None
    nullable: bool = True


S, INT, B, T = F("str"), F("int"), F("bool"), F("time")

PARTNER = {
    "domain_id": F("str", True),
    "account_name": F("str", True),
    "name": S,
    "xaccount_type": F("str", True),
    "partner_type": F("str", enum=("distributor", "solution_provider")),
    "issue_mode": F("str", enum=("new_quota", "top_up")),
    "credentials": F("list"),
}
CREDENTIAL = {
    "ak": F("str", True),
    "sk": F("str", True),
    "role": F("str", enum=("admin", "readonly")),
}
MANAGER = {"account_name": F("str", True), "name": S}
CUSTOMER = {
    "customer_id": F("str", True),
    "account_name": F("str", True),
    "customer": S,
    "associated_on": T,
    "association_type": F("str", enum=("1", "2")),
    "label": S,
    "telephone": S,
    "verified_status": F("str", enum=("-1", "0", "1", "2")),
    "country_code": S,
    "customer_type": F("int", enum=(-1, 0, 1)),
    "is_frozen": F("int", enum=(0, 1, 2)),
    "xaccount_id": S,
    "xaccount_type": S,
    "customer_level": F("str", enum=("V0", "V1", "V2", "V3", "V4", "V5")),
    "email": S,
    "account_manager": S,
    "agency_granted": B,
    "resources": F("list"),
    "amount": F("money"),  # cash balance (resale customers only)
    "debt_amount": F("money"),
}
ATTACHED = {
    "resource_id": F("str", True),
    "id": S,
    "resource_name": S,
    "region_code": S,
    "service_type_code": S,
    "resource_type_code": S,
    "resource_type_name": S,
    "service_type_name": S,
    "resource_spec_code": S,
    "project_id": S,
    "product_id": S,
    "status": F("int", enum=(2, 3, 4, 5)),
    "effective_time": T,
    "expire_time": T,
    "product_spec_desc": S,
    "spec_size": F("decimal"),
    "spec_size_measure_id": INT,
    "update_time": T,
    "enterprise_project": F("map"),
    "order_id": S,
}
RESOURCE = {
    **ATTACHED,
    "expire_policy": F("int", enum=(0, 1, 2, 3, 4, 5)),
    "auto_renew_times": INT,
    "period_type": F("str", enum=("MONTH", "YEAR")),
    "attached": F("list"),
}
RESELLER = {
    "indirect_partner_id": F("str", True),
    "account_name": F("str", True),
    "name": S,
    "mobile_phone": S,
    "email": S,
    "associated_on": T,
    "account_manager_id": S,
    "account_manager_name": S,
    "exiting": B,
    "customers": F("list"),
    "accounts": F("list"),
}
_QUOTA_COMMON = {
    "quota_id": F("str", True),
    "quota_type": F("int", enum=(0, 1)),
    "quota_value": F("money", True),
    "balance": F("money"),
    "create_time": T,
    "last_update_time": T,
    "effective_time": T,
    "expire_time": T,
}
QUOTA = {
    **_QUOTA_COMMON,
    "quota_status": F("int", enum=(0, 3, 4, 5)),
    "measure_id": INT,
    "currency": S,
    "limit_infos": F("list"),
}
ISSUED = {
    **_QUOTA_COMMON,
    "quota_status": F("int", enum=(0, 3, 4, 5, 6)),
    "parent_quota_id": F("str", True),
    "indirect_partner_id": F("str", True),
}
RECORD = {
    "id": S,
    "operation_type": F("str", True, enum=("10", "11")),
    "quota_id": S,
    "parent_quota_id": S,
    "indirect_partner_id": F("str", True),
    "amount": F("money", True),
    "operation_time": F("time", True),
    "result": F("str", enum=("0", "-1")),
    "operator": S,
    "remark": S,
}
ACCOUNT = {
    "account_id": F("str", True),
    "account_type": F("int", True, enum=(1, 2, 5, 7, 8)),
    "amount": F("money", True),
    "currency": S,
    "designated_amount": F("money"),
    "credit_amount": F("money"),
    "measure_id": INT,
    "memo": S,
}
COUPON = {
    "coupon_id": F("str", True),
    "customer_id": F("str", True),
    "quota_id": F("str", True),
    "face_value": F("money", True),
    "balance": F("money"),
    "status": F("int", enum=(1, 2, 3, 4, 5)),
    "effective_time": T,
    "expire_time": T,
    "create_time": T,
    "active_time": T,
    "last_used_time": T,
    "order_id": S,
    "promotion_plan_id": S,
    "promotion_plan_name": S,
    "promotion_plan_desc": S,
    "promotion_id": S,
    "use_limits": F("list"),
    "memo": S,
}
COUPON_RECORD = {
    "id": S,
    "operation_type": F("str", True, enum=tuple(str(n) for n in range(1, 10))),
    "coupon_id": F("str", True),
    "operation_amount": F("money", True),
    "operation_time": F("time", True),
    "result": F("str", enum=("0", "-1")),
    "remark": S,
}
ADJUST_RECORD = {
    "trans_id": F("str", True),
    "customer_id": F("str", True),
    "operation_type": F(
        "str",
        True,
        enum=(
            "SOURCE_OPERATION_BEADJUST",
            "SOURCE_OPERATION_BERETRIEVE",
            "SOURCE_OPERATION_BEUNBIND",
        ),
    ),
    "amount": F("money", True),
    "operation_time": F("time", True),
    "customer_name": S,
    "currency": S,
    "apply_scene": S,
    "measure_id": INT,
    "memo": S,
    "indirect_partner_id": S,
}
TOP = {
    "version": F("int", enum=(1,)),
    "partner": F("map"),
    "account_managers": F("list"),
    "customers": F("list"),
    "resellers": F("list"),
    "quotas": F("list"),
    "issued_quotas": F("list"),
    "records": F("list"),
    "accounts": F("list"),
    "coupons": F("list"),
    "coupon_records": F("list"),
    "adjust_records": F("list"),
}


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_money(value: object) -> Decimal | None:
    if isinstance(value, float):
        return None  # write amounts as strings: "1200.00"
    return jsonutil.parse_money(value)


def _as_decimal(value: object) -> Decimal | None:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return jsonutil.parse_money(value)
    return None


def _as_time(value: object) -> str | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value if isinstance(value, str) and is_timestamp(value) else None


def _as_list(value: object) -> list[Any] | None:
    return value if isinstance(value, list) else None


def _as_map(value: object) -> dict[str, Any] | None:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else None


CONVERTERS: dict[str, Callable[[object], Any]] = {
    "str": _as_str,
    "int": _as_int,
    "bool": _as_bool,
    "money": _as_money,
    "decimal": _as_decimal,
    "time": _as_time,
    "list": _as_list,
    "map": _as_map,
}
EXPECTED = {
    "str": "expected a string",
    "int": "expected an integer",
    "bool": "expected true or false",
    "money": 'expected an amount with at most 2 decimals, written as a string ("1200.00")',
    "decimal": "expected a number",
    "time": "expected a UTC timestamp yyyy-MM-ddTHH:mm:ssZ",
    "list": "expected a list",
    "map": "expected a mapping",
}


def convert(kind: str, value: object) -> Any:
    """``value`` as the seed field kind ``kind``, or ``None`` if it is not one."""
    return CONVERTERS[kind](value)


def expected(kind: str) -> str:
    return EXPECTED[kind]
