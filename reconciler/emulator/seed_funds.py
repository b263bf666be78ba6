"""The money a seed gives customers and resellers: accounts (§7.23), cash balances (§7.19),
customer coupons (§7.15) and the records of both (§7.16, §7.20). Called by ``seed.py``'s builder
after customers, resellers and quotas exist; every problem names its entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container, Mapping
from decimal import Decimal
from typing import Any, Protocol

from reconciler.emulator.models import (
    Account,
    AdjustRecord,
    Coupon,
    CouponRecord,
    Quota,
    State,
)
from reconciler.emulator.seedspec import ACCOUNT, ADJUST_RECORD, COUPON, COUPON_RECORD, F

ZERO = Decimal("0.00")
#: Coupons in these statuses hold nothing: used (3), expired (4, the rest flowed back), reclaimed.
EMPTY_STATUSES = (3, 4, 5)


class Checker(Protocol):
    """The parts of the seed builder used here (``seed._Builder``)."""

    problems: list[str]

    def fields(self, where: str, raw: object, spec: Mapping[str, F]) -> dict[str, Any]: ...

    def items(self, where: str, raw: object) -> list[tuple[str, object]]: ...

    def unique(self, where: str, key: str, existing: Container[str], what: str) -> bool: ...


def _id(prefix: str, key: str) -> str:
    return hashlib.sha256(f"{prefix}:{key}".encode()).hexdigest()[:32]


def accounts(b: Checker, state: State, where: str, raw: object, owner: str | None) -> None:
    """The partner's (``owner=None``) or one reseller's accounts."""
    for item_where, item in b.items(where, raw):
        data = b.fields(item_where, item, ACCOUNT)
        if not data or not b.unique(item_where, data["account_id"], state.accounts, "account_id"):
            continue
        account = Account(**data, owner=owner)
        if account.account_type == 8 and any(
            a.owner == owner and a.account_type == 8 for a in state.accounts.values()
        ):
            b.problems.append(f"{item_where}.account_type: a second allocatable account (8)")
            continue
        if (account.designated_amount or ZERO) > account.amount:
            b.problems.append(f"{item_where}.designated_amount: greater than amount")
        if account.credit_amount is not None and account.account_type != 2:
            b.problems.append(f"{item_where}.credit_amount: only for a credit account (type 2)")
        state.accounts[account.account_id] = account


def build(b: Checker, state: State, doc: Mapping[str, Any]) -> None:
    """Everything of this module in ``doc``; runs after customers, resellers and quotas."""
    accounts(b, state, "accounts", doc.get("accounts"), owner=None)
    _cash_only_for_resale(b, state)
    for where, raw in b.items("coupons", doc.get("coupons")):
        coupon(b, state, where, raw)
    if "coupon_records" in doc:
        for where, raw in b.items("coupon_records", doc.get("coupon_records")):
            coupon_record(b, state, where, raw)
    else:
        state.coupon_records.extend(_issue_record(c) for c in state.coupons.values())
    state.coupon_records.sort(key=lambda r: r.operation_time)
    for where, raw in b.items("adjust_records", doc.get("adjust_records")):
        adjust_record(b, state, where, raw)
    state.adjust_records.sort(key=lambda r: r.operation_time)


def _cash_only_for_resale(b: Checker, state: State) -> None:
    for customer in state.customers.values():
        if customer.association_type != "2" and (customer.amount or customer.debt_amount):
            b.problems.append(
                f"customer {customer.customer_id}: amount/debt_amount are only for resale "
                'customers (association_type "2")'
            )


def coupon(b: Checker, state: State, where: str, raw: object) -> None:
    data = b.fields(where, raw, COUPON)
    if not data or not b.unique(where, data["coupon_id"], state.coupons, "coupon_id"):
        return
    customer = state.customers.get(data["customer_id"])
    if customer is None or customer.association_type != "2":
        b.problems.append(f"{where}.customer_id: no resale customer {data['customer_id']!r}")
        return
    quota = state.quotas.get(data["quota_id"])
    if quota is None or quota.indirect_partner_id != customer.indirect_partner_id:
        whose = customer.indirect_partner_id or "the partner"
        b.problems.append(f"{where}.quota_id: no quota {data['quota_id']!r} of {whose}")
        return
    status = data.setdefault("status", 2)
    data.setdefault("balance", ZERO if status in EMPTY_STATUSES else data["face_value"])
    if data["balance"] > data["face_value"]:
        b.problems.append(f"{where}.balance: greater than face_value")
    if status in EMPTY_STATUSES and data["balance"] != ZERO:
        b.problems.append(f"{where}.balance: a coupon in status {status} holds 0.00")
    _coupon_defaults(data, quota)
    state.coupons[data["coupon_id"]] = Coupon(
        **data,
        coupon_type=4 if quota.quota_type == 1 else 1,
        quota_type=quota.quota_type,
        owner=customer.indirect_partner_id,
    )


def _coupon_defaults(data: dict[str, Any], quota: Quota) -> None:
    data.setdefault("effective_time", quota.effective_time)
    data.setdefault("expire_time", quota.expire_time)
    data.setdefault("create_time", data["effective_time"])
    if data["status"] != 1:
        data.setdefault("active_time", data["effective_time"])
    limits = data.pop("use_limits", None) or []
    data["use_limits"] = [
        {"use_limiti_info_id": f"{data['coupon_id']}-{n}", **item}
        for n, item in enumerate(limits, 1)
        if isinstance(item, Mapping)
    ]


def _issue_record(c: Coupon) -> CouponRecord:
    return CouponRecord(
        id=_id("coupon-record", f"seed-issue:{c.coupon_id}"),
        operation_type="1",
        operation_amount=c.face_value,
        operation_time=c.create_time or "",
        result="0",
        quota_id=c.quota_id,
        quota_type=c.quota_type,
        coupon_id=c.coupon_id,
        customer_id=c.customer_id,
        owner=c.owner,
    )


def coupon_record(b: Checker, state: State, where: str, raw: object) -> None:
    data = b.fields(where, raw, COUPON_RECORD)
    if not data:
        return
    c = state.coupons.get(data["coupon_id"])
    if c is None:
        b.problems.append(f"{where}.coupon_id: no coupon {data['coupon_id']!r} in coupons")
        return
    data.setdefault("id", _id("coupon-record", f"seed:{where}"))
    data.setdefault("result", "0")
    state.coupon_records.append(
        CouponRecord(
            **data,
            quota_id=c.quota_id,
            quota_type=c.quota_type,
            customer_id=c.customer_id,
            owner=c.owner,
        )
    )


def adjust_record(b: Checker, state: State, where: str, raw: object) -> None:
    data = b.fields(where, raw, ADJUST_RECORD)
    if not data or not b.unique(
        where, data["trans_id"], {r.trans_id for r in state.adjust_records}, "trans_id"
    ):
        return
    owner = data.pop("indirect_partner_id", None)
    if owner is not None and owner not in state.resellers:
        b.problems.append(f"{where}.indirect_partner_id: no reseller {owner!r}")
        return
    name = _party_name(state, data["customer_id"], owner)
    if name is None:
        whose = f"reseller {owner}" if owner else "the partner"
        b.problems.append(f"{where}.customer_id: no customer or reseller of {whose}")
        return
    data.setdefault("customer_name", name)
    state.adjust_records.append(AdjustRecord(**data, owner=owner))


def _party_name(state: State, party_id: str, owner: str | None) -> str | None:
    """The name of a customer of ``owner`` or, in the partner's own ledger, of a reseller."""
    customer = state.customers.get(party_id)
    if customer is not None and customer.indirect_partner_id == owner:
        return customer.customer or customer.account_name
    reseller = state.resellers.get(party_id)
    if reseller is not None and owner is None:
        return reseller.name or reseller.account_name
    return None
