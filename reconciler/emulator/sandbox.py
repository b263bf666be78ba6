"""What the control plane does to the state: the sandbox-only actions with no public API (a
person in a console, a customer spending, the clock moving), as plain functions of the state.

Both the control plane's routes (:mod:`reconciler.emulator.control`) and the
:class:`~reconciler.emulator.core.Emulator`'s methods (:mod:`reconciler.emulator.actions`) call
them, so the two can never differ.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reconciler.emulator import coupons, jsonutil, timefmt
from reconciler.emulator.clock import Clock, VirtualClock
from reconciler.emulator.errors import ControlError
from reconciler.emulator.hold import Holds
from reconciler.emulator.models import State


def advance_clock(clock: Clock, seconds: float) -> None:
    """Move a :class:`VirtualClock` forward; refused for the system clock."""
    if not isinstance(clock, VirtualClock):
        raise ControlError(400, "only a VirtualClock can be advanced")
    clock.advance(seconds)


def set_account_manager(state: State, customer_id: str, account_name: str | None) -> None:
    customer = _customer(state, customer_id)
    if account_name is not None and account_name not in state.account_managers:
        known = ", ".join(sorted(state.account_managers)) or "none"
        raise ControlError(400, f"unknown account manager {account_name!r} (known: {known})")
    customer.account_manager = account_name


def set_agency(state: State, customer_id: str, granted: bool) -> None:
    _customer(state, customer_id).agency_granted = granted


def spend_quota(state: State, quota_id: str, amount: object, now: float) -> Decimal:
    """A reseller spends ``amount`` of a child quota; that value never comes back."""
    quota = state.quotas.get(quota_id)
    if quota is None or quota.indirect_partner_id is None:
        raise ControlError(404, f"no reseller quota {quota_id}")
    value = jsonutil.parse_money(amount)
    if value is None or value <= 0:
        raise ControlError(400, 'amount must be > 0 with at most 2 decimals, e.g. "12.34"')
    if quota.quota_status != 0 or value > quota.balance:
        raise ControlError(400, f"quota {quota_id} has status {quota.quota_status} and "
                                f"balance {quota.balance}; cannot spend {value}")  # fmt: skip
    quota.balance -= value
    quota.last_update_time = timefmt.fmt(now)
    return quota.balance


def _amount(value: object) -> Decimal:
    amount = jsonutil.parse_money(value)
    if amount is None or amount <= 0:
        raise ControlError(400, 'amount must be > 0 with at most 2 decimals, e.g. "12.34"')
    return amount


def spend_coupon(state: State, coupon_id: str, amount: object, now: float) -> Decimal:
    """A customer spends ``amount`` of a usable coupon; that value never comes back. A coupon
    spent down to 0.00 is used (status 3)."""
    coupon = state.coupons.get(coupon_id)
    if coupon is None:
        raise ControlError(404, f"no coupon {coupon_id}")
    value = _amount(amount)
    if coupon.status != coupons.USABLE or value > coupon.balance:
        raise ControlError(400, f"coupon {coupon_id} has status {coupon.status} and balance "
                                f"{coupon.balance}; cannot spend {value}")  # fmt: skip
    coupon.balance -= value
    coupon.last_used_time = timefmt.fmt(now)
    if coupon.balance == 0:
        coupon.status = coupons.USED
    return coupon.balance


def spend_cash(state: State, customer_id: str, amount: object) -> dict[str, str]:
    """A resale customer pays ``amount`` from its cash balance; what the balance cannot cover
    becomes debt (``debt_amount``)."""
    customer = _customer(state, customer_id)
    if customer.association_type != coupons.RESALE:
        raise ControlError(400, f"customer {customer_id} is not a resale customer")
    value = _amount(amount)
    paid = min(value, customer.amount)
    customer.amount -= paid
    customer.debt_amount += value - paid
    return {"customer_id": customer_id, "amount": str(customer.amount),
            "debt_amount": str(customer.debt_amount)}  # fmt: skip


def _non_negative(name: str, value: object, current: Decimal) -> Decimal:
    if value is None:
        return current
    parsed = jsonutil.parse_money(value)
    if parsed is None or parsed < 0:
        raise ControlError(400, f'{name} must be >= 0 with at most 2 decimals, e.g. "12.34"')
    return parsed


def set_account(
    state: State,
    account_id: str,
    *,
    amount: object = None,
    designated_amount: object = None,
) -> dict[str, Any]:
    """Huawei funding an account or ring-fencing part of it (``designated_amount``)."""
    account = state.accounts.get(account_id)
    if account is None:
        raise ControlError(404, f"no account {account_id}")
    new_amount = _non_negative("amount", amount, account.amount)
    designated = account.designated_amount
    if designated_amount is not None:
        designated = _non_negative("designated_amount", designated_amount, Decimal(0))
    if (designated or 0) > new_amount:
        raise ControlError(400, "designated_amount must not exceed amount")
    account.amount, account.designated_amount = new_amount, designated
    return {"account_id": account_id, "amount": str(account.amount),
            "designated_amount": str(account.designated_amount)}  # fmt: skip


def set_resource(
    state: State,
    resource_id: str,
    *,
    expire_policy: int | None = None,
    status: int | None = None,
    expire_time: str | None = None,
) -> dict[str, Any]:
    """The customer changing a resource in the console (drift)."""
    res = state.resources.get(resource_id)
    if res is None:
        raise ControlError(404, f"no resource {resource_id}")
    if expire_policy is not None:
        if res.parent_resource_id:
            raise ControlError(400, "attached resources follow their main resource's expire_policy")
        if expire_policy not in range(6):
            raise ControlError(400, "expire_policy must be 0..5")
        res.expire_policy = expire_policy
    if status is not None:
        if status not in (2, 3, 4, 5):
            raise ControlError(400, "status must be 2, 3, 4 or 5")
        res.status = status
    if expire_time is not None:
        if not timefmt.is_timestamp(expire_time):
            raise ControlError(400, "expire_time must look like 2027-01-01T00:00:00Z")
        res.expire_time = expire_time
    return {"resource_id": res.resource_id, "expire_policy": res.expire_policy,
            "status": res.status, "expire_time": res.expire_time}  # fmt: skip


def set_quota(
    state: State,
    quota_id: str,
    *,
    quota_status: int | None = None,
    effective_time: str | None = None,
    expire_time: str | None = None,
) -> dict[str, Any]:
    """Huawei operations changing a quota (freeze, invalidate, re-date it)."""
    quota = state.quotas.get(quota_id)
    if quota is None:
        raise ControlError(404, f"no quota {quota_id}")
    if quota_status is not None:
        if quota_status not in (0, 3, 4, 5, 6):
            raise ControlError(400, "quota_status must be 0, 3, 4, 5 or 6")
        quota.quota_status = quota_status
    for name, value in (("effective_time", effective_time), ("expire_time", expire_time)):
        if value is not None:
            if not timefmt.is_timestamp(value):
                raise ControlError(400, f"{name} must look like 2027-01-01T00:00:00Z")
            setattr(quota, name, value)
    return {"quota_id": quota.quota_id, "quota_status": quota.quota_status,
            "effective_time": quota.effective_time, "expire_time": quota.expire_time}  # fmt: skip


def release_fault(holds: Holds, state: State, fault_id: str) -> dict[str, Any]:
    fault = next((f for f in state.faults if f["id"] == fault_id), None)
    if fault is None or fault["kind"] != "hold":
        raise ControlError(404, f"no hold fault {fault_id}")
    fault["released"] = True
    holds.release(fault_id)
    return dict(fault)


def calls(state: State, operation: str | None = None) -> list[dict[str, Any]]:
    return [dict(c) for c in state.calls if operation is None or c.get("operation") == operation]


def _customer(state: State, customer_id: str) -> Any:
    customer = state.customers.get(customer_id)
    if customer is None:
        raise ControlError(404, f"no customer {customer_id}")
    return customer
