"""Worker pools that keep an API's pacer busy, sized by Little's law.

When an API is used at its rate, ``rate x latency`` calls are in flight, so a pool holds that
many workers plus one waiting at the pacer for the next slot. The latency is the slowest recent
answer of that API (about its p99) with a margin, so a pool grows when its API slows down;
before the first answer it assumes :data:`LATENCY_ALLOWANCE`. There is no parallelism knob, and
no 429 of our making: the client's pacer spaces the calls.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient

T = TypeVar("T")
R = TypeVar("R")

#: Seconds a call is assumed to take before the API has answered once.
LATENCY_ALLOWANCE = 1.0
#: Margin on the slowest recent answer when sizing a pool.
HEADROOM = 1.25
#: Never more workers than this on one API, however slow it gets.
MAX_WORKERS = 256

Job = Callable[[], Awaitable[None]]


def workers_for(rate: float, latency: float = LATENCY_ALLOWANCE) -> int:
    """Little's law: ``rate x latency`` calls in flight, plus one waiting for the next slot."""
    return max(2, min(MAX_WORKERS, math.ceil(rate * latency) + 1))


async def pool_map(items: Iterable[T], fn: Callable[[T], Awaitable[R]], workers: int) -> list[R]:
    """``fn`` over ``items`` with at most ``workers`` in flight; results in input order."""
    todo = list(enumerate(items))
    results: list[R | None] = [None] * len(todo)
    it = iter(todo)

    async def worker() -> None:
        for index, item in it:
            results[index] = await fn(item)

    await asyncio.gather(*(worker() for _ in range(max(1, min(workers, len(todo))))))
    return results  # type: ignore[return-value]


class ApiPool:
    """Runs jobs (each making calls to one API) with enough workers to keep its pacer busy.

    Workers are started as jobs arrive, up to :meth:`target`, and stop when the queue is empty.
    ``urgent`` jobs (the further pages of a listing already started) go before the others.
    """

    def __init__(self, client: BssClient, api: str, fail: Callable[[BaseException], None]) -> None:
        self.client = client
        self.api = api
        self.rate = client.rate_for(api)
        self._fail = fail
        self._urgent: deque[Job] = deque()
        self._normal: deque[Job] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def target(self) -> int:
        """Workers needed now: from the rate and the slowest recent answer (Little's law)."""
        latency = self.client.recent_latency(self.api)
        allowance = LATENCY_ALLOWANCE if latency is None else latency * HEADROOM
        return workers_for(self.rate, allowance)

    @property
    def queued(self) -> int:
        return len(self._urgent) + len(self._normal)

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def submit(self, job: Job, *, urgent: bool = False) -> None:
        (self._urgent if urgent else self._normal).append(job)
        self._idle.clear()
        self._grow()

    def _grow(self) -> None:
        want = min(self.target(), len(self._tasks) + self.queued)
        while len(self._tasks) < want:
            task = asyncio.ensure_future(self._worker())
            self._tasks.add(task)

    async def _worker(self) -> None:
        try:
            while self._urgent or self._normal:
                job = self._urgent.popleft() if self._urgent else self._normal.popleft()
                await job()
                self._grow()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.discard(task)
            if not self._tasks and not self.queued:
                self._idle.set()

    async def join(self) -> None:
        """Wait until every job submitted so far (and any they submit) has finished."""
        await self._idle.wait()

    def cancel(self) -> None:
        self._urgent.clear()
        self._normal.clear()
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._idle.set()
