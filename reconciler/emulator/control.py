"""The control plane under ``/_emulator/``: sandbox-only actions with no public API.

No authentication, no rate limit, not in the call log. Each action is also a method of
:class:`~reconciler.emulator.core.Emulator`; both call the state functions of
:mod:`reconciler.emulator.sandbox`. The emulator hands :func:`dispatch` a :class:`Host` (its
clock and how to replace its state), so this module never imports the core that imports it.

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
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import faults, jsonutil, sandbox, timefmt
from reconciler.emulator.clock import Clock
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
    sandbox.set_account_manager(state, m["id"], body["account_name"])
    return 200, {"customer_id": m["id"], "account_name": body["account_name"]}


def _agency(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    body = _json(request)
    if not isinstance(body.get("granted"), bool):
        raise ControlError(400, 'body must be {"granted": true} or {"granted": false}')
    sandbox.set_agency(state, m["id"], body["granted"])
    return 200, {"customer_id": m["id"], "granted": body["granted"]}


def _spend(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    balance = sandbox.spend_quota(state, m["id"], _json(request).get("amount"), emu.clock.time())
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
    balance = sandbox.spend_coupon(state, m["id"], _json(request).get("amount"), emu.clock.time())
    return 200, {"coupon_id": m["id"], "balance": str(balance)}


def _spend_cash(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    return 200, sandbox.spend_cash(state, m["id"], _json(request).get("amount"))


def _patch_account(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, (), ("amount", "designated_amount"))
    return 200, sandbox.set_account(state, m["id"], **body)


def _patch_resource(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, ("expire_policy", "status"), ("expire_time",))
    return 200, sandbox.set_resource(state, m["id"], **body)


def _patch_quota(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    body = _fields(request, ("quota_status",), ("effective_time", "expire_time"))
    return 200, sandbox.set_quota(state, m["id"], **body)


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
    return 200, sandbox.release_fault(emu.holds, state, m["id"])


def _calls(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    if request.method == "DELETE":
        state.calls.clear()
        return 200, {"calls": []}
    operation = parse_query(request.raw_query).get("operation")
    return 200, {"calls": sandbox.calls(state, operation)}


def _state(emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]) -> tuple[int, Any]:
    return 200, state.to_plain()


def _advance(
    emu: Host, state: State, request: EmulatorRequest, m: re.Match[str]
) -> tuple[int, Any]:
    seconds: Any = _json(request).get("seconds")
    try:
        sandbox.advance_clock(emu.clock, float(seconds))
    except (TypeError, ValueError) as exc:
        raise ControlError(400, f"cannot advance the clock: {exc}") from exc
    return 200, {"now": timefmt.fmt(emu.clock.time())}


Action = Callable[[Host, State, EmulatorRequest, re.Match[str]], tuple[int, Any]]


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
