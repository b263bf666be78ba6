"""The control plane under ``/_emulator/``: sandbox-only actions with no public API.

No authentication, no rate limit, not in the call log. Each action is also a method of
:class:`~reconciler.emulator.core.Emulator`; both call the state functions below. The emulator
hands :func:`dispatch` a :class:`Host` (its clock and how to replace its state), so this module
never imports the core that imports it.

==========  ===========================================  ==========================================
Method      Path                                          Body / effect
==========  ===========================================  ==========================================
POST        /_emulator/reset                             optional seed doc; back to that seed (or
                                                         the emulator's initial seed)
POST        /_emulator/seed                              seed doc (YAML or JSON); replace the state
GET         /_emulator/state                             the whole state (amounts as strings)
PUT         /_emulator/customers/{id}/account-manager    {"account_name": "..." | null}
PUT         /_emulator/customers/{id}/agency             {"granted": true | false}
POST        /_emulator/quotas/{id}/spend                 {"amount": "12.34"}: a reseller spends
POST        /_emulator/coupons/{id}/spend                {"amount": "12.34"}: a customer spends
POST        /_emulator/customers/{id}/spend              {"amount": "12.34"}: cash, then debt
PATCH       /_emulator/accounts/{id}                     {"amount", "designated_amount"}
PATCH       /_emulator/resources/{id}                    {"expire_policy", "status", "expire_time"}
PATCH       /_emulator/quotas/{id}                       {"quota_status", "effective_time",
                                                         "expire_time"}
POST        /_emulator/faults                            a fault (see faults.py); answers its id
POST        /_emulator/faults/{id}/release               a hold fault's held requests go on now
GET/DELETE  /_emulator/faults                            list / clear faults
GET/DELETE  /_emulator/calls[?operation=...]             the call log / clear it
POST        /_emulator/clock/advance                     {"seconds": n} (VirtualClock only)
==========  ===========================================  ==========================================
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import coupons, faults, jsonutil, timefmt
from reconciler.emulator.clock import Clock, VirtualClock
from reconciler.emulator.errors import ControlError
from reconciler.emulator.hold import Holds
from reconciler.emulator.messages import EmulatorRequest
from reconciler.emulator.models import State
from reconciler.emulator.params import parse_query

PREFIX = "/_emulator/"


@dataclass(frozen=True)
class Host:
    """What the control plane needs from the emulator it runs in."""

    clock: Clock
    #: Replace the state with a seed document (bytes), or ``None`` for the initial seed.
    replace_state: Callable[[bytes | None], None]
    #: The requests the ``hold`` fault keeps waiting (released through the control plane).
    holds: Holds


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


# --- HTTP ------------------------------------------------------------------------------------
Action = Callable[[Host, State, EmulatorRequest, re.Match[str]], tuple[int, Any]]


def _json(request: EmulatorRequest) -> dict[str, Any]:
    try:
        data = jsonutil.loads(request.body) if request.body.strip() else {}
    except ValueError as exc:
        raise ControlError(400, f"the body is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def _reset(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    emu.replace_state(request.body if request.body.strip() else None)
    return 200, {"reset": True}


def _seed(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    if not request.body.strip():
        raise ControlError(400, "POST /_emulator/seed needs a seed document in the body")
    emu.replace_state(request.body)
    return 200, {"seeded": True}


def _manager(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _json(request)
    if "account_name" not in body or not isinstance(body["account_name"], (str, type(None))):
        raise ControlError(400, 'body must be {"account_name": "..."} or {"account_name": null}')
    set_account_manager(state, m["id"], body["account_name"])
    return 200, {"customer_id": m["id"], "account_name": body["account_name"]}


def _agency(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    body = _json(request)
    if not isinstance(body.get("granted"), bool):
        raise ControlError(400, 'body must be {"granted": true} or {"granted": false}')
    set_agency(state, m["id"], body["granted"])
    return 200, {"customer_id": m["id"], "granted": body["granted"]}


def _spend(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    balance = spend_quota(state, m["id"], _json(request).get("amount"), emu.clock.time())
    return 200, {"quota_id": m["id"], "balance": str(balance)}


def _fields(
    request: EmulatorRequest, ints: tuple[str, ...], texts: tuple[str, ...]
) -> dict[str, Any]:
    body = _json(request)
    unknown = set(body) - set(ints) - set(texts)
    if unknown:
        raise ControlError(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    for name in ints:
        if name in body and (isinstance(body[name], bool) or not isinstance(body[name], int)):
            raise ControlError(400, f"{name} must be an integer")
    for name in texts:
        if name in body and not isinstance(body[name], str):
            raise ControlError(400, f"{name} must be a string")
    return body


def _spend_coupon(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    balance = spend_coupon(state, m["id"], _json(request).get("amount"), emu.clock.time())
    return 200, {"coupon_id": m["id"], "balance": str(balance)}


def _spend_cash(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, spend_cash(state, m["id"], _json(request).get("amount"))


def _patch_account(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, (), ("amount", "designated_amount"))
    return 200, set_account(state, m["id"], **body)


def _patch_resource(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, ("expire_policy", "status"), ("expire_time",))
    return 200, set_resource(state, m["id"], **body)


def _patch_quota(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, ("quota_status",), ("effective_time", "expire_time"))
    return 200, set_quota(state, m["id"], **body)


def _faults(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    if request.method == "POST":
        return 201, faults.add_fault(state, _json(request))
    if request.method == "DELETE":
        state.faults.clear()
        return 200, {"faults": []}
    return 200, {"faults": [dict(f) for f in state.faults]}


def _release(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, release_fault(emu.holds, state, m["id"])


def _calls(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    if request.method == "DELETE":
        state.calls.clear()
        return 200, {"calls": []}
    operation = parse_query(request.raw_query).get("operation")
    return 200, {"calls": calls(state, operation)}


def _state(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    return 200, state.to_plain()


def _advance(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    seconds: Any = _json(request).get("seconds")
    try:
        advance_clock(emu.clock, float(seconds))
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"cannot advance the clock: {exc}") from exc
    return 200, {"now": timefmt.fmt(emu.clock.time())}


_ROUTES: list[tuple[str, re.Pattern[str], Action]] = [
    ("POST", re.compile(r"reset"), _reset),
    ("POST", re.compile(r"seed"), _seed),
    ("GET", re.compile(r"state"), _state),
    ("PUT", re.compile(r"customers/(?P<id>[^/]+)/account-manager"), _manager),
    ("PUT", re.compile(r"customers/(?P<id>[^/]+)/agency"), _agency),
    ("POST", re.compile(r"quotas/(?P<id>[^/]+)/spend"), _spend),
    ("POST", re.compile(r"coupons/(?P<id>[^/]+)/spend"), _spend_coupon),
    ("POST", re.compile(r"customers/(?P<id>[^/]+)/spend"), _spend_cash),
    ("PATCH", re.compile(r"accounts/(?P<id>[^/]+)"), _patch_account),
    ("PATCH", re.compile(r"resources/(?P<id>[^/]+)"), _patch_resource),
    ("PATCH", re.compile(r"quotas/(?P<id>[^/]+)"), _patch_quota),
    ("POST", re.compile(r"faults/(?P<id>[^/]+)/release"), _release),
    ("GET|POST|DELETE", re.compile(r"faults"), _faults),
    ("GET|DELETE", re.compile(r"calls"), _calls),
    ("POST", re.compile(r"clock/advance"), _advance),
]


def dispatch(emu: Host, state: State, request: EmulatorRequest) -> tuple[int, Any]:
    """Run one control-plane request; unknown paths answer 404, wrong methods 405."""
    tail = unquote(request.path[len(PREFIX) :])
    for methods, pattern, action in _ROUTES:
        found = pattern.fullmatch(tail)
        if found is None:
            continue
        if request.method not in methods.split("|"):
            raise ControlError(405, f"{request.method} is not allowed on {request.path}")
        return action(emu, state, request, found)
    raise ControlError(404, f"no control-plane action at {request.method} {request.path}")
