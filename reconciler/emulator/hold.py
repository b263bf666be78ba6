"""Held requests: the ``hold`` fault's "arrived, not yet executed" (see ``faults.py``).

A held request is answered by :meth:`Emulator.handle` with an :class:`EmulatorResponse` that has
``hold`` seconds and a ``resume`` request instead of an answer; the transport (or the server
thread) waits outside the emulator's lock, so other requests are served meanwhile, then hands
``resume`` back to ``handle`` to execute it. ``POST /_emulator/faults/{id}/release`` ends the
wait of every request that fault holds at once. The caller may have timed out or been killed
meanwhile: in served mode the held request executes all the same, as behind a real gateway.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.clock import Clock, SystemClock

#: How often an in-process wait looks for a release.
POLL = 0.05


@dataclass(frozen=True)
class Held:
    """What a held request keeps until it is executed."""

    request_id: str
    sequence: int
    applied: Any  # faults.Applied, minus the hold
    fault_id: str


class Holds:
    """Releases of ``hold`` faults, shared by the threads that wait on them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._released: set[str] = set()
        self._cond = threading.Condition()

    def release(self, fault_id: str) -> None:
        with self._cond:
            self._released.add(fault_id)
            self._cond.notify_all()

    def released(self, fault_id: str) -> bool:
        with self._cond:
            return fault_id in self._released

    def wait(self, fault_id: str, seconds: float) -> None:
        """Block until released or ``seconds`` passed (no wait on a virtual clock)."""
        if not isinstance(self.clock, SystemClock):
            return
        deadline = time.monotonic() + seconds
        with self._cond:
            while fault_id not in self._released:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    return

    async def await_(self, fault_id: str, seconds: float) -> None:
        """The same for an event loop: sleeps on the emulator's clock, looking for a release."""
        left = seconds
        while left > 0 and not self.released(fault_id):
            step = min(POLL, left)
            await self.clock.sleep(step)
            left -= step
