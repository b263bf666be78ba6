"""One API call through the emulator: route (else 501) -> signature (401) -> rate limit (429)
-> caller check (403) -> faults (a held call waits here) -> handler -> call log -> response with
``X-Request-Id`` and ``Date``.

:class:`~reconciler.emulator.core.Emulator` owns the state, its lock and the control plane, and
hands each API request here inside its transaction; :data:`HANDLERS` is the table of operations
the emulator serves (the routes to them are :mod:`reconciler.emulator.routes`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import unquote

from reconciler.emulator import (
    auth,
    cash_handlers,
    coupon_handlers,
    faults,
    handlers,
    jsonutil,
    quota_handlers,
    timefmt,
)
from reconciler.emulator.call import Call, Result
from reconciler.emulator.clock import Clock
from reconciler.emulator.errors import EmulatorError, InternalError, NotImplementedByEmulator
from reconciler.emulator.hold import Held, Holds
from reconciler.emulator.iam import create_temporary_access_key
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import Drop, EmulatorRequest, EmulatorResponse
from reconciler.emulator.models import State
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.routes import Route, authorize, match

log = logging.getLogger(__name__)

CALL_LOG_CAP = 5000
HANDLERS: dict[str, Callable[[Call], Result]] = {
    "list_sub_customers": handlers.list_sub_customers,
    "list_indirect_partners": handlers.list_indirect_partners,
    "list_pay_per_use_customer_resources": handlers.list_pay_per_use_customer_resources,
    "auto_renewal_resources": handlers.auto_renewal_resources,
    "cancel_auto_renewal_resources": handlers.cancel_auto_renewal_resources,
    "set_resources_renew_config": handlers.set_resources_renew_config,
    "renewal_resources": handlers.renewal_resources,
    "list_quota_coupons": quota_handlers.list_quota_coupons,
    "update_coupon_quotas": quota_handlers.update_coupon_quotas,
    "reclaim_coupon_quotas": quota_handlers.reclaim_coupon_quotas,
    "list_issued_coupon_quotas": quota_handlers.list_issued_coupon_quotas,
    "list_coupon_quotas_records": quota_handlers.list_coupon_quotas_records,
    "create_partner_coupons": coupon_handlers.create_partner_coupons,
    "reclaim_partner_coupons": coupon_handlers.reclaim_partner_coupons,
    "list_issued_partner_coupons": coupon_handlers.list_issued_partner_coupons,
    "list_partner_coupons_record": coupon_handlers.list_partner_coupons_record,
    "update_customer_account_amount": cash_handlers.update_customer_account_amount,
    "reclaim_to_partner_account": cash_handlers.reclaim_to_partner_account,
    "list_customers_balances_detail": cash_handlers.list_customers_balances_detail,
    "list_partner_adjust_records": cash_handlers.list_partner_adjust_records,
    "update_indirect_partner_account": cash_handlers.update_indirect_partner_account,
    "reclaim_indirect_partner_account": cash_handlers.reclaim_indirect_partner_account,
    "list_partner_balances": cash_handlers.list_partner_balances,
    "iam_create_temporary_access_key": create_temporary_access_key,
}


class Host(Protocol):
    """What an API call needs of the emulator that takes it."""

    clock: Clock
    latency: LatencyModel | None
    rng_seed: int
    holds: Holds
    limiter: RateLimiter


def api_call(
    host: Host, request: EmulatorRequest, state: State, sequence: int, request_id: str
) -> EmulatorResponse:
    now = host.clock.time()
    held: Held | None = request.resume
    if held is not None:
        sequence, request_id = held.sequence, held.request_id
    entry = _log_entry(request, sequence, request_id, now)
    entry["arrived"] = request.received if request.received is not None else host.clock.monotonic()
    found = match(request.method, request.path)
    if found is None:
        err = NotImplementedByEmulator(request.method, request.path)
        return _finish(host, state, entry, _Answer(err.status, err.body()), request_id)
    route, path_params = found
    entry["operation"] = route.operation
    answer = _Answer()
    if host.latency is not None:
        answer.latency = host.latency.sample(route.operation, host.rng_seed, sequence)
    try:
        _execute(
            host, request, state, route=route, path_params=path_params, now=now, entry=entry,
            answer=answer,
        )  # fmt: skip
    except EmulatorError as err:
        answer.status, answer.payload = err.status, err.body()
    except Exception:
        log.exception("emulator bug while handling %s %s", request.method, request.path)
        bug = InternalError("internal error in the emulator")
        answer.status, answer.payload = bug.status, bug.body()
    if answer.hold is not None:
        entry["held"] = True
        response = _finish(host, state, entry, _Answer(), request_id)
        resume = replace(request, resume=answer.hold)
        return replace(
            response, hold=answer.hold.applied.hold, hold_fault=answer.hold.fault_id,
            resume=resume,
        )  # fmt: skip
    return _finish(host, state, entry, answer, request_id, replaces=held is not None)


def _execute(
    host: Host,
    request: EmulatorRequest,
    state: State,
    *,
    route: Route,
    path_params: dict[str, str],
    now: float,
    entry: dict[str, Any],
    answer: _Answer,
) -> None:
    caller = auth.authenticate(request, state, now)
    entry["caller"] = caller.describe()
    held: Held | None = request.resume
    if held is None:
        host.limiter.acquire(caller.account_id, route.operation)
        authorize(route, caller, state.partner.partner_type)
        applied = faults.evaluate(state, route.operation)
        if applied.hold and not host.holds.released(applied.hold_fault or ""):
            entry["fault"] = applied.kinds
            fault_id = applied.hold_fault or ""
            answer.hold = Held(entry["request_id"], entry["seq"], applied, fault_id)
            return
    else:
        applied = held.applied
        entry["held"] = True
    entry["fault"] = applied.kinds or None
    answer.latency += applied.extra_latency
    if applied.terminal == "drop_before_commit":
        answer.drop = "before_commit"
        return
    faults.raise_terminal(applied, host.limiter.rate)
    if applied.drop_after_commit:
        answer.drop = "after_commit"
    call = Call(
        state, caller, now, host.rng_seed,
        {k: unquote(v) for k, v in path_params.items()},
        request.raw_query, request.body, answer.latency, applied.item_errors,
    )  # fmt: skip
    try:
        answer.status, answer.payload = HANDLERS[route.operation](call)
    finally:
        entry["mutated"] = call.mutated
    if applied.fields and 200 <= answer.status < 300:
        answer.payload = faults.alter_fields(answer.payload, applied.fields)
    if applied.page_limit is not None and 200 <= answer.status < 300:
        answer.payload = faults.limit_page(answer.payload, applied.page_limit)


def _finish(
    host: Host,
    state: State,
    entry: dict[str, Any],
    answer: _Answer,
    request_id: str,
    *,
    replaces: bool = False,
) -> EmulatorResponse:
    """Log the call (a resumed held call ``replaces`` its entry) and build the answer."""
    dropped = answer.drop == "before_commit"
    entry.update(status=None if dropped or not answer.status else answer.status)
    entry.update(drop=answer.drop, latency=answer.latency)
    if answer.status >= 400 and isinstance(answer.payload, dict):
        entry["error_code"] = answer.payload.get("error_code")
    if replaces:
        state.calls[:] = [c for c in state.calls if c.get("seq") != entry["seq"]]
    state.calls.append(entry)
    if len(state.calls) > CALL_LOG_CAP:
        del state.calls[: len(state.calls) - CALL_LOG_CAP]
    log.debug("%s %s -> %s", entry["method"], entry["path"], entry["status"])
    return response(
        answer.status, answer.payload, request_id, host.clock.time() + answer.latency,
        latency=answer.latency, drop=answer.drop,
    )  # fmt: skip


@dataclass
class _Answer:
    status: int = 0
    payload: Any = None
    latency: float = 0.0
    drop: Drop = None
    hold: Held | None = None


def _log_entry(
    request: EmulatorRequest, sequence: int, request_id: str, now: float
) -> dict[str, Any]:
    """A call-log row: who called what and what came of it; never a secret."""
    return {
        "seq": sequence, "request_id": request_id, "time": timefmt.fmt(now),
        "method": request.method, "path": request.path, "query": request.raw_query,
        "operation": None, "caller": None, "status": None, "error_code": None,
        "fault": None, "mutated": False, "latency": 0.0, "drop": None, "held": False,
        "body": request.body[:4096].decode("utf-8", "replace"),
    }  # fmt: skip


def response(
    status: int,
    payload: Any,
    request_id: str,
    now: float,
    *,
    latency: float = 0.0,
    drop: Drop = None,
    exact: bool = True,
) -> EmulatorResponse:
    """API answers use exact money JSON; the control plane's may hold floats (seconds).

    ``Date`` is the emulator clock's time when the answer leaves, as a real server sends it.
    """
    headers = {"X-Request-Id": request_id, "Date": formatdate(now, usegmt=True)}
    body = b""
    if payload is not None and status != 204:
        headers["Content-Type"] = "application/json;charset=UTF-8"
        if exact:
            body = jsonutil.dumps(payload)
        else:
            body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    return EmulatorResponse(status, headers, body, latency=latency, drop=drop)
