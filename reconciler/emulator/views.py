"""API views of the state: the JSON objects of REFERENCE §7, with ``None`` fields left out."""

from __future__ import annotations

from typing import Any

from reconciler.emulator.models import (
    Account,
    AdjustRecord,
    Coupon,
    CouponRecord,
    Customer,
    Quota,
    QuotaRecord,
    Reseller,
    Resource,
    State,
)

_CUSTOMER_FIELDS = (
    "customer", "account_name", "customer_id", "associated_on", "association_type", "label",
    "telephone", "verified_status", "country_code", "customer_type", "is_frozen",
)  # fmt: skip
_CUSTOMER_TAIL = ("xaccount_id", "xaccount_type", "customer_level", "email")
_RESELLER_FIELDS = (
    "indirect_partner_id", "mobile_phone", "email", "account_name", "name", "associated_on",
    "account_manager_id", "account_manager_name",
)  # fmt: skip
_RESOURCE_FIELDS = (
    "id", "resource_id", "resource_name", "region_code", "service_type_code",
    "resource_type_code", "resource_type_name", "service_type_name", "resource_spec_code",
    "project_id", "product_id", "parent_resource_id", "is_main_resource", "status",
    "effective_time", "expire_time", "expire_policy", "product_spec_desc", "spec_size",
    "spec_size_measure_id", "update_time", "enterprise_project",
)  # fmt: skip
_QUOTA_FIELDS = (
    "quota_id", "quota_type", "create_time", "last_update_time", "quota_value", "quota_status",
    "balance", "measure_id", "currency", "effective_time", "expire_time", "limit_infos",
)  # fmt: skip
_RECORD_FIELDS = (
    "id", "operator", "operation_type", "quota_id", "parent_quota_id", "amount",
    "operation_time", "result", "indirect_partner_account_name", "indirect_partner_id",
    "indirect_partner_name", "remark",
)  # fmt: skip

_COUPON_FIELDS = (
    "coupon_id", "status", "customer_id", "coupon_type", "measure_id", "face_value",
    "effective_time", "expire_time", "order_id", "promotion_plan_id", "promotion_plan_name",
    "promotion_plan_desc", "media_type", "fetch_method", "use_limits", "active_time",
    "last_used_time", "promotion_id", "create_time", "balance", "lock_order_id", "is_frozen",
)  # fmt: skip
_COUPON_RECORD_FIELDS = (
    "id", "operation_type", "quota_id", "quota_type", "coupon_id", "customer_id",
    "operation_amount", "operation_time", "result", "remark",
)  # fmt: skip
_ADJUST_RECORD_FIELDS = (
    "customer_id", "customer_name", "operation_type", "amount", "currency", "apply_scene",
    "operation_time", "measure_id", "trans_id", "memo",
)  # fmt: skip
_ACCOUNT_FIELDS = (
    "account_id", "account_type", "amount", "currency", "designated_amount", "credit_amount",
    "measure_id", "memo",
)  # fmt: skip


def fields_of(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` that are set (``None`` left out), as a plain dict."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            out[name] = value
    return out


def customer(c: Customer) -> dict[str, Any]:
    out = fields_of(c, _CUSTOMER_FIELDS)
    if c.account_manager:
        # At most one entry; with no manager the field is left out (the client must cope).
        out["account_managers"] = [{"account_name": c.account_manager}]
    out.update(fields_of(c, _CUSTOMER_TAIL))
    return out


def reseller(r: Reseller) -> dict[str, Any]:
    return fields_of(r, _RESELLER_FIELDS)


def resource(r: Resource, state: State) -> dict[str, Any]:
    out = fields_of(r, _RESOURCE_FIELDS)
    if r.parent_resource_id:
        main = state.resources.get(r.parent_resource_id)
        if main is not None:
            out["expire_policy"] = main.expire_policy  # attached resources follow their main
    if r.enterprise_project is not None:
        out["enterprise_project"] = dict(r.enterprise_project)
    return out


def quota(q: Quota) -> dict[str, Any]:
    out = fields_of(q, _QUOTA_FIELDS)
    out["limit_infos"] = [dict(item) for item in q.limit_infos]
    return out


def issued_quota(q: Quota, state: State) -> dict[str, Any]:
    out = quota(q)
    owner = state.resellers.get(q.indirect_partner_id or "")
    out["indirect_partner_id"] = q.indirect_partner_id
    if owner is not None:
        out["indirect_partner_account_name"] = owner.account_name
        if owner.name is not None:
            out["indirect_partner_name"] = owner.name
    out["parent_quota_id"] = q.parent_quota_id
    return out


def record(r: QuotaRecord) -> dict[str, Any]:
    return fields_of(r, _RECORD_FIELDS)


def coupon(c: Coupon) -> dict[str, Any]:
    out = fields_of(c, _COUPON_FIELDS)
    out["use_limits"] = [dict(item) for item in c.use_limits]
    return out


def coupon_record(r: CouponRecord) -> dict[str, Any]:
    return fields_of(r, _COUPON_RECORD_FIELDS)


def adjust_record(r: AdjustRecord) -> dict[str, Any]:
    out = fields_of(r, _ADJUST_RECORD_FIELDS)
    out["amount"] = f"{r.amount:.2f}"  # AdjustRecordV3.amount is a string (§7.20)
    return out


def account(a: Account) -> dict[str, Any]:
    return fields_of(a, _ACCOUNT_FIELDS)


def customer_balance(c: Customer) -> dict[str, Any]:
    return {
        "customer_id": c.customer_id,
        "debt_amount": c.debt_amount,
        "amount": c.amount,
        "currency": "CNY",
        "measure_id": 1,
    }
