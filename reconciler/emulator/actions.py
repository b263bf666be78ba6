"""The control-plane actions as methods of :class:`~reconciler.emulator.core.Emulator`.

Each runs one state function of :mod:`reconciler.emulator.control` inside the emulator's lock and
state-file transaction; ``POST /_emulator/...`` runs the same functions over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.emulator import faults, sandbox
from reconciler.emulator.clock import Clock
from reconciler.emulator.credentials import EmulatorCredentials
from reconciler.emulator.hold import Holds
from reconciler.emulator.models import Credential, State


class ControlMethods:
    """Mixed into the emulator, which provides ``clock`` and ``_mutate``."""

    clock: Clock
    #: keys given with add_credentials (``serve --ak/--sk``): a reset keeps them
    _pinned: dict[str, Credential]
    holds: Holds

    def _mutate(self, action: Callable[[State], Any]) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def call_log(self, operation: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._mutate(lambda state: sandbox.calls(state, operation))
        return result

    def clear_call_log(self) -> None:
        self._mutate(lambda state: state.calls.clear())

    def set_account_manager(self, customer_id: str, account_name: str | None) -> None:
        """Assign (or with ``None`` remove) a customer's account manager, as in the console."""
        self._mutate(lambda state: sandbox.set_account_manager(state, customer_id, account_name))

    def set_agency(self, customer_id: str, granted: bool) -> None:
        """Grant or revoke the customer's agency to the partner."""
        self._mutate(lambda state: sandbox.set_agency(state, customer_id, granted))

    def spend_quota(self, quota_id: str, amount: str | int | Any) -> None:
        """A reseller spends ``amount`` of its quota ``quota_id`` (never reclaimable)."""
        self._mutate(lambda state: sandbox.spend_quota(state, quota_id, amount, self.clock.time()))

    def set_resource(
        self,
        resource_id: str,
        *,
        expire_policy: int | None = None,
        status: int | None = None,
        expire_time: str | None = None,
    ) -> None:
        """The customer changing a resource in the console (drift)."""
        self._mutate(
            lambda state: sandbox.set_resource(
                state,
                resource_id,
                expire_policy=expire_policy,
                status=status,
                expire_time=expire_time,
            )
        )

    def spend_coupon(self, coupon_id: str, amount: str | int | Any) -> None:
        """The customer spends ``amount`` of a usable coupon (never reclaimable)."""
        self._mutate(
            lambda state: sandbox.spend_coupon(state, coupon_id, amount, self.clock.time())
        )

    def spend_cash(self, customer_id: str, amount: str | int | Any) -> None:
        """A resale customer pays ``amount`` from its cash balance; the rest becomes debt."""
        self._mutate(lambda state: sandbox.spend_cash(state, customer_id, amount))

    def set_account(
        self, account_id: str, *, amount: str | None = None, designated_amount: str | None = None
    ) -> None:
        """Huawei funding an account or ring-fencing part of it."""
        self._mutate(
            lambda state: sandbox.set_account(
                state, account_id, amount=amount, designated_amount=designated_amount
            )
        )

    def set_quota(
        self,
        quota_id: str,
        *,
        quota_status: int | None = None,
        effective_time: str | None = None,
        expire_time: str | None = None,
    ) -> None:
        """Change a quota's status or dates, as Huawei operations would."""
        self._mutate(
            lambda state: sandbox.set_quota(
                state,
                quota_id,
                quota_status=quota_status,
                effective_time=effective_time,
                expire_time=expire_time,
            )
        )

    def add_fault(
        self,
        operation: str,
        kind: str,
        *,
        count: int = 1,
        skip: int = 0,
        seconds: float = 0.0,
        ids: list[str] | None = None,
        error_code: str | None = None,
        field: str | None = None,
        **value: Any,
    ) -> str:
        """Inject a fault (see ``faults.py``); returns its id. A ``field`` fault takes the
        field's name and, to corrupt it rather than omit it, ``value=...``; a ``page_limit``
        fault the most items a page holds as ``value=...``."""
        spec: dict[str, Any] = {"operation": operation, "kind": kind, "count": count, "skip": skip,
                                "seconds": seconds, "ids": list(ids or [])}  # fmt: skip
        if error_code is not None:
            spec["error_code"] = error_code
        if field is not None:
            spec["field"] = field
        unknown = set(value) - {"value"}
        if unknown:
            raise TypeError(f"add_fault() got unexpected keyword(s) {sorted(unknown)}")
        spec.update(value)
        fault: dict[str, Any] = self._mutate(lambda state: faults.add_fault(state, spec))
        return str(fault["id"])

    def faults(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._mutate(lambda state: [dict(f) for f in state.faults])
        return result

    def clear_faults(self) -> None:
        self._mutate(lambda state: state.faults.clear())

    def release(self, fault_id: str) -> None:
        """End the wait of every request the ``hold`` fault ``fault_id`` holds (now and later)."""
        self._mutate(lambda state: sandbox.release_fault(self.holds, state, fault_id))

    def add_credentials(self, credentials: EmulatorCredentials) -> None:
        """Accept another permanent AK/SK for the partner account (persisted with the state, and
        kept by :meth:`reset` and ``POST /_emulator/reset`` for this emulator's lifetime)."""
        cred = Credential(credentials.ak, credentials.sk, credentials.role)
        self._pinned[cred.ak] = cred
        self._mutate(lambda state: state.credentials.__setitem__(cred.ak, cred))

    def advance_clock(self, seconds: float) -> None:
        """Move a :class:`VirtualClock` forward; refused for the system clock."""
        sandbox.advance_clock(self.clock, seconds)
