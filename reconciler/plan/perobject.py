"""The per-object reads of :class:`~reconciler.plan.reader.Reader` (a mixin: the reader provides
the state): each waits in one queue per read behind one shared job, so 100,000 customers found
far faster than their reads can be made cost a queue slot each, not a chain of closures; a
whole listing is handed over as its kind's ``prune`` keeps it (:mod:`reconciler.plan.kept`).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reconciler.kinds.reads import EachListing
from reconciler.plan.listings import Listings

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.kinds.base import LiveState
    from reconciler.kinds.reads import Subject
    from reconciler.plan.declared import PerObject, Wanted
    from reconciler.plan.pools import ApiPool
    from reconciler.plan.progress import ReadCounters


class _Pending:
    def __repr__(self) -> str:
        return "PENDING"


#: What ``live.reads[read][object id]`` holds while the object's read is queued or under way:
#: it marks the read as started (a second reference to the object does not make it again) and
#: the object as not ready while any of its reads holds it. A kind never sees it: a read ends
#: with every read in, or raises.
PENDING: Any = _Pending()
#: A pruned listing with nothing kept: one shared list (read-only) for the many objects whose
#: items are all in sync.
NOTHING: list[Any] = []


class PerObjectReads(Listings):
    """Queues and makes the reads declared per customer or reseller."""

    client: BssClient
    live: LiveState
    _queues: dict[str, deque[str]]
    _jobs: dict[str, Callable[[], Any]]
    _calls: dict[str, list[int]]
    _per_subject: dict[str, list[str]]
    counters: ReadCounters
    _want_of: dict[str, Wanted]

    def pool(self, api: str) -> ApiPool:
        raise NotImplementedError

    def entries(
        self, want: Wanted, subject: Subject, oid: str, *, resolved: bool
    ) -> tuple[Any, ...]:
        raise NotImplementedError

    def _ready(self, subject: Subject, oid: str) -> None:
        raise NotImplementedError

    def _per_object(self, subject: Subject, oid: str, read: PerObject) -> None:
        queue = self._queues.get(read.name)
        if queue is None:
            queue = self._queues[read.name] = deque()
            self._jobs[read.name] = functools.partial(self._next, subject, read)
        queue.append(oid)
        self.pool(read.api).submit(self._jobs[read.name])

    async def _next(self, subject: Subject, read: PerObject) -> None:
        """The read of the next object waiting for ``read``."""
        oid = self._queues[read.name].popleft()

        def done(found: Any) -> None:
            reads = self.live.reads
            reads[read.name][oid] = found
            self._calls[read.api][1] += 1
            self.counters.done(read.name)
            names = self._per_subject[subject]
            if not any(reads.get(name, {}).get(oid) is PENDING for name in names):
                self._ready(subject, oid)

        if isinstance(read, EachListing):
            fetch = functools.partial(read.fetch, self.client, oid)
            kept = functools.partial(self._kept, subject, oid, read, done)
            await self._first_page(self.pool(read.api), fetch, read.page, read.key, kept)
            return
        done(await read.fetch(self.client, oid))
        self._tick(read.api)

    def _kept(
        self, subject: Subject, oid: str, read: EachListing[Any], done: Callable[[Any], None],
        items: list[Any],
    ) -> None:  # fmt: skip
        """A whole listing is in: what its kind's diff needs of it (``read.prune``)."""
        items = [item for item in items if read.keep(item)]
        if read.prune is not None:
            entries = self.entries(self._want_of[read.name], subject, oid, resolved=False)
            items, in_sync = read.prune(entries, items)
            self.live.pruned[read.name] = self.live.pruned.get(read.name, 0) + in_sync
            items = items or NOTHING
        done(items)
