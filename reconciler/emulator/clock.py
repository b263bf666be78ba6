"""Clocks shared by the emulator and the client.

Two implementations of one small interface:

* :class:`SystemClock` reads the real time and sleeps for real. Used against the real cloud,
  against a served emulator and by the embedded emulator of the CLI.
* :class:`VirtualClock` keeps its own time. Coroutines run with :meth:`VirtualClock.run` use an
  event loop whose ``time()`` is the virtual clock and which, when every task is waiting on a
  timer, jumps straight to the next timer instead of sleeping. A run that would take hours of
  rate-limited calls therefore takes as long as the CPU work it does, and replays exactly.

Code that waits must call ``await clock.sleep(s)`` (or ``asyncio.sleep``, which is the same thing
inside a virtual loop) and read the time from ``clock.time()`` (wall, epoch seconds) or
``clock.monotonic()``. This module is a leaf: it imports nothing from the reconciler, so the
emulator stays independent of the code it tests and the client can still share its clock.
"""

from __future__ import annotations

import asyncio
import math
import selectors
import time
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

#: 2026-01-01T00:00:00Z, the default start of virtual time.
VIRTUAL_EPOCH = 1_767_225_600.0


class Clock(Protocol):
    """What the client and the emulator need from a clock."""

    def time(self) -> float:
        """Wall-clock time, seconds since the Unix epoch (UTC)."""

    def monotonic(self) -> float:
        """A clock that never goes backwards, for intervals and rate limits."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock."""


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that only moves when told to, or when a virtual loop runs out of ready work.

    ``time()`` is ``start + elapsed``; ``monotonic()`` is ``elapsed``. Outside a running virtual
    loop, :meth:`advance` moves time forward (tests use it to age credentials or locks).
    """

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._start = start
        self._elapsed = 0.0

    def time(self) -> float:
        return self._start + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed

    def advance(self, seconds: float) -> None:
        if not 0 <= seconds < math.inf:  # nan too
            raise ValueError(f"a clock moves forward by a finite number of seconds, not {seconds}")
        self._elapsed += seconds

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        if not isinstance(loop, VirtualEventLoop) or loop.clock is not self:
            raise RuntimeError("VirtualClock.sleep needs the loop from VirtualClock.run()")
        await asyncio.sleep(max(0.0, seconds))

    def new_event_loop(self) -> VirtualEventLoop:
        return VirtualEventLoop(self)

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """Run ``main`` to completion on a fresh virtual event loop."""
        loop = self.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(main)
        finally:
            try:
                _cancel_all_tasks(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def __repr__(self) -> str:
        return f"VirtualClock(elapsed={self._elapsed:.3f}s)"


def _cancel_all_tasks(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that advances virtual time instead of blocking on a timeout.

    Real file descriptors (the loop's self-pipe, used by threads that call
    ``call_soon_threadsafe``) are still polled, so mixing in a worker thread works; but when there
    is nothing to read and the loop wants to wait ``timeout`` seconds for its next timer, time jumps
    by ``timeout`` and the wait is free.
    """

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout is None or timeout <= 0:
            if not ready and timeout is None:
                # Nothing scheduled at all: only another thread can wake us. Block for real.
                return super().select(None)
            return ready
        self._clock.advance(timeout)
        return []


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose time is a :class:`VirtualClock`."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        super().__init__(selector=_JumpingSelector(clock))
        # asyncio treats timers within one clock resolution as due; virtual time is exact.
        self._clock_resolution = 1e-9

    def time(self) -> float:
        return self.clock.monotonic()
