"""The :class:`Emulator`: one synchronous ``handle()`` used by both transports and the server.

A request goes: coupons follow the clock -> control plane? -> route (else 501) -> signature (401)
-> rate limit (429) -> caller check (403) -> faults -> handler -> call log -> response with
``X-Request-Id``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from reconciler.emulator import (
    auth,
    cash_handlers,
    control,
    coupon_handlers,
    coupons,
    faults,
    handlers,
    ids,
    jsonutil,
    quota_handlers,
    timefmt,
)
from reconciler.emulator import seed as seeds
from reconciler.emulator.actions import ControlMethods
from reconciler.emulator.call import Call, Result
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.errors import (
    ControlError,
    EmulatorError,
    InternalError,
    NotImplementedByEmulator,
    SeedError,
)
from reconciler.emulator.hold import Held, Holds
from reconciler.emulator.iam import create_temporary_access_key
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import Drop, EmulatorRequest, EmulatorResponse
from reconciler.emulator.models import Credential, State
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.routes import Route, authorize, match
from reconciler.emulator.state import StateStore

if TYPE_CHECKING:
    import httpx

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


class Emulator(ControlMethods):
    """An in-process emulation of the partner API, its IAM agency endpoint and a control plane."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        state_file: str | os.PathLike[str] | None = None,
        seed: seeds.SeedSource | None = None,
        rate_limit: float = 10.0,
        latency: LatencyModel | None = None,
        rng_seed: int = 0,
        state_factory: Callable[[], State] | None = None,
    ) -> None:
        """``state_factory`` replaces ``seed``: it builds the initial state directly (and again on
        :meth:`reset`), e.g. a large partner from :mod:`reconciler.emulator.generate`."""
        if state_factory is not None and seed is not None:
            raise ValueError("pass a seed or a state_factory, not both")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.rng_seed = rng_seed
        self.latency = latency
        self._state_factory = state_factory
        self._seed_doc = seeds.load_document(seed) if seed is not None else None
        self._seed_source = "seed" if seed is None or isinstance(seed, Mapping) else str(seed)
        # Fail fast on a bad seed; the built state is used if the state file needs a seed.
        self._prebuilt: State | None = (
            state_factory()
            if state_factory is not None
            else seeds.build_state(self._seed_doc, source=self._seed_source)
        )
        self._limiter = RateLimiter(rate_limit, self.clock)
        #: keys given with add_credentials (``serve --ak/--sk``): a reset keeps them
        self._pinned: dict[str, Credential] = {}
        self.holds = Holds(self.clock)
        self._lock = threading.RLock()
        self._store = StateStore(state_file, self._initial_state)
        self._store.open()
        self._prebuilt = None

    @property
    def agency_name(self) -> str:
        """The agency customers grant to the partner: the partner's ``xaccount_type``."""
        name: str = self._mutate(lambda state: state.partner.xaccount_type)
        return name

    @property
    def partner_domain_id(self) -> str:
        """The emulated partner's domain (account) id."""
        domain: str = self._mutate(lambda state: state.partner.domain_id)
        return domain

    def __repr__(self) -> str:
        where = self._store.path or "memory"
        return f"Emulator(state={where}, clock={self.clock!r}, rate_limit={self._limiter.rate})"

    # --- the core ---------------------------------------------------------------------------
    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request. Thread-safe; the state file (if any) is locked meanwhile."""
        with self._lock, self._store.transaction() as state:
            sequence = state.next_counter("request")
            request_id = ids.request_id(self.rng_seed, sequence)
            # Coupons change status on their dates; settle that before anyone looks.
            coupons.follow_clock(state, self.clock.time(), self.rng_seed)
            if request.path.startswith(control.PREFIX):
                try:
                    host = control.Host(self.clock, self._replace_state, self.holds)
                    status, payload = control.dispatch(host, state, request)
                except SeedError as err:
                    status, payload = 400, ControlError(400, str(err)).body()
                except EmulatorError as err:
                    status, payload = err.status, err.body()
                return _response(status, payload, request_id, self.clock.time(), exact=False)
            return self._api_call(request, state, sequence, request_id)

    def _api_call(
        self, request: EmulatorRequest, state: State, sequence: int, request_id: str
    ) -> EmulatorResponse:
        now = self.clock.time()
        held: Held | None = request.resume
        if held is not None:
            sequence, request_id = held.sequence, held.request_id
        entry = _log_entry(request, sequence, request_id, now)
        found = match(request.method, request.path)
        if found is None:
            err = NotImplementedByEmulator(request.method, request.path)
            return self._finish(state, entry, _Answer(err.status, err.body()), request_id)
        route, path_params = found
        entry["operation"] = route.operation
        answer = _Answer()
        if self.latency is not None:
            answer.latency = self.latency.sample(route.operation, self.rng_seed, sequence)
        try:
            self._execute(
                request, state, route=route, path_params=path_params, now=now, entry=entry,
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
            response = self._finish(state, entry, _Answer(), request_id)
            resume = replace(request, resume=answer.hold)
            return replace(
                response, hold=answer.hold.applied.hold, hold_fault=answer.hold.fault_id,
                resume=resume,
            )  # fmt: skip
        return self._finish(state, entry, answer, request_id, replaces=held is not None)

    def _execute(
        self,
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
            self._limiter.acquire(caller.account_id, route.operation)
            authorize(route, caller, state.partner.partner_type)
            applied = faults.evaluate(state, route.operation)
            if applied.hold and not self.holds.released(applied.hold_fault or ""):
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
        faults.raise_terminal(applied, self._limiter.rate)
        if applied.drop_after_commit:
            answer.drop = "after_commit"
        call = Call(
            state, caller, now, self.rng_seed,
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
        self,
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
        return _response(
            answer.status, answer.payload, request_id, self.clock.time() + answer.latency,
            latency=answer.latency, drop=answer.drop,
        )  # fmt: skip

    # --- transports -------------------------------------------------------------------------
    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that sends every request, whatever its host, to this emulator."""
        from reconciler.emulator.transport import AsyncEmulatorTransport

        return AsyncEmulatorTransport(self)

    def sync_transport(self) -> httpx.BaseTransport:
        from reconciler.emulator.transport import SyncEmulatorTransport

        return SyncEmulatorTransport(self)

    # --- state and control-plane helpers ----------------------------------------------------
    def _initial_state(self) -> State:
        state, self._prebuilt = self._prebuilt, None
        if state is not None:
            return state
        if self._state_factory is not None:
            return self._state_factory()
        return seeds.build_state(self._seed_doc, source=self._seed_source)

    def _replace_state(self, seed: seeds.SeedSource | bytes | None) -> None:
        """Replace the state (call inside a transaction). ``None`` = the initial seed."""
        if seed is None:
            new = self._initial_state()
        elif isinstance(seed, bytes):
            new = seeds.build_state(seeds.parse_document(seed), source="request body")
        else:
            source = "seed" if isinstance(seed, Mapping) else str(seed)
            new = seeds.build_state(seeds.load_document(seed), source=source)
        old = self._store.state
        new.counters["request"] = old.counters.get("request", 0)
        new.temp_credentials = {}
        new.credentials.update(self._pinned)
        self._store.replace(new)
        self._limiter.reset()

    def _mutate(self, action: Callable[[State], Any]) -> Any:
        with self._lock, self._store.transaction() as state:
            return action(state)

    def reset(self, seed: seeds.SeedSource | None = None) -> None:
        """Clear everything and apply ``seed`` (default: the seed this emulator started with)."""
        self._mutate(lambda _state: self._replace_state(seed))

    def load_seed(self, seed: seeds.SeedSource) -> None:
        """Replace the state with ``seed`` (what ``POST /_emulator/seed`` does)."""
        self.reset(seed)

    def state(self) -> dict[str, Any]:
        """The whole state as plain JSON data (amounts as strings)."""
        result: dict[str, Any] = self._mutate(lambda state: state.to_plain())
        return result


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


def _response(
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
