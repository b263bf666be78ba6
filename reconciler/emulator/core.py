"""The :class:`Emulator`: one synchronous ``handle()`` used by both transports and the server.

A request goes: coupons follow the clock -> control plane (:mod:`reconciler.emulator.control`)
or an API call (:mod:`reconciler.emulator.pipeline`: route, signature, rate limit, caller check,
faults, handler, call log, response). The emulator owns the state (in memory or a state file),
its lock, the rate limiter and the held calls.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reconciler.emulator import control, coupons, ids, pipeline
from reconciler.emulator import seed as seeds
from reconciler.emulator.actions import ControlMethods
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.emulator.errors import ControlError, EmulatorError, SeedError
from reconciler.emulator.hold import Holds
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import EmulatorRequest, EmulatorResponse
from reconciler.emulator.models import Credential, State
from reconciler.emulator.ratelimit import RateLimiter
from reconciler.emulator.state import StateStore

if TYPE_CHECKING:
    import httpx


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
        self.limiter = RateLimiter(rate_limit, self.clock)
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
        return f"Emulator(state={where}, clock={self.clock!r}, rate_limit={self.limiter.rate})"

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
                return pipeline.response(
                    status, payload, request_id, self.clock.time(), exact=False
                )
            return pipeline.api_call(self, request, state, sequence, request_id)

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
        self.limiter.reset()

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
