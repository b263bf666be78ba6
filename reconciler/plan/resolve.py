"""Resolving the manifests' references to live objects, for :class:`~reconciler.plan.reader.Reader`.

Each reference is resolved by one targeted query or by listing every page, whichever costs fewer
calls (the first page tells the total); references a whole-partner listing missed are looked up
one by one before they are called unknown (the set may have moved between pages). Unknown ones
become problems with a "did you mean" (:mod:`reconciler.plan.census`), and a manager neither in
the roster nor on a customer read is looked for on every customer before it is called unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler.bss.redact import get_logger
from reconciler.plan.census import Census, unresolved_problems
from reconciler.plan.references import (
    PAGE,
    Directory,
    Distinct,
    Ref,
    RefIndex,
    customer_directory,
    lookup,
    reseller_directory,
)

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.errors import ManifestProblem
    from reconciler.kinds.base import LiveState
    from reconciler.plan.pools import ApiPool
    from reconciler.plan.progress import Progress

log = get_logger(__name__)
T = TypeVar("T")

#: Fewer references than this are always resolved one by one, without a probe page.
PROBE_THRESHOLD = 4
#: A listing whose total moved between its pages is read again at most this many times.
REREADS = 2


class Resolution:
    """The reader's reference resolution (a mixin: the reader provides pools and ticks)."""

    client: BssClient
    live: LiveState
    problems: list[ManifestProblem]
    progress: Progress
    census: Census
    _unresolved: list[tuple[list[Ref], Directory[Any]]]

    def pool(self, api: str) -> ApiPool:
        raise NotImplementedError

    def _tick(self, api: str) -> None:
        raise NotImplementedError

    async def _join(self, *apis: str) -> None:
        raise NotImplementedError

    async def _resolve(
        self, refs: list[Ref], d: Directory[T], found: Callable[[Ref, T], None]
    ) -> None:
        """Each reference -> its object (``found`` is called as soon as it is known); unknown
        ones become problems. ``refs`` is taken over (emptied): a reference is let go once its
        object is found, so 100,000 of them are not all held while the objects' reads run.

        After a whole-partner listing, references it did not find are looked up one by one when
        that is cheaper than the listing was (the set may have moved between pages), or when the
        total moved while listing. If the total moved and many are missing, the listing is
        repeated first (at most :data:`REREADS` times).
        """
        if not refs:
            return
        index = RefIndex(refs)
        count = len(refs)
        refs.clear()
        # The objects listed, counted once each by the hash of their ID (not the ID strings of
        # 100,000 objects): two IDs sharing a hash count once, so the listing is at worst called
        # incomplete and the references it missed are looked up one by one.
        listed = Distinct()

        def take(items: Sequence[T]) -> None:
            self.census.record(d, items)
            for item in items:
                listed.add(d.id_of(item))
                for ref in index.take(d.id_of(item), d.name_of(item)):
                    found(ref, item)

        if count >= PROBE_THRESHOLD:
            for attempt in range(REREADS + 1):
                listed = Distinct()
                first = await d.page(0)
                take(first.items)
                self._tick(d.api)
                pages_left = max(0, math.ceil(first.total / PAGE) - 1)
                if not len(index) or pages_left > len(index):
                    break  # all found, or one query each is cheaper than listing
                totals = await self._list_pages(d, pages_left, take, first.total)
                # Whole: one total throughout, and as many objects as it says (an API that
                # clamps the page size serves fewer: the rest are looked up one by one).
                complete = len(totals) == 1 and len(listed) >= first.total
                self.census.of(d.what).complete = complete
                if len(index) <= pages_left + 1:
                    break  # few missing: look them up (cheaper than listing again)
                if complete:
                    self._unknown(index.pending(), d)  # a whole listing did not have them
                    return
                if attempt < REREADS:
                    log.info("%s total moved while listing %s; again", d.what, sorted(totals))
        await self._lookups(index.pending(), d, found)

    async def _list_pages(
        self, d: Directory[T], count: int, take: Callable[[Sequence[T]], None], total: int
    ) -> set[int]:
        """Pages 2..count+1 of a listing through the pool; the totals they reported."""
        totals = {total}
        pool = self.pool(d.api)
        for n in range(count):

            async def job(offset: int = PAGE * (n + 1)) -> None:
                page = await d.page(offset)
                totals.add(page.total)
                take(page.items)
                self._tick(d.api)

            pool.submit(job)
        await self._join(d.api)
        return totals

    async def _lookups(
        self, pending: list[Ref], d: Directory[T], found: Callable[[Ref, T], None]
    ) -> None:
        """One targeted query per reference; those it does not find are unknown."""
        unknown: list[Ref] = []
        pool = self.pool(d.api)
        for ref in pending:

            async def look(ref: Ref = ref) -> None:
                obj = await lookup(ref, d)
                if obj is None:
                    unknown.append(ref)
                else:
                    found(ref, obj)
                self._tick(d.api)

            pool.submit(look)
        await self._join(d.api)
        self._unknown(sorted(unknown, key=lambda r: r.source), d)

    def _unknown(self, refs: Iterable[Ref], d: Directory[T]) -> None:
        """References no query found: problems, with a "did you mean", once the reads are done."""
        refs = list(refs)
        if refs:
            self._unresolved.append((refs, d))

    async def _explain_unresolved(self) -> None:
        for refs, d in self._unresolved:
            hints = await self.census.suggest(refs, d, self.pool(d.api))
            self.problems += unresolved_problems(refs, d, hints)

    async def check_managers(self, names: set[str]) -> None:
        """Before a manager is called unknown, look at every customer (and reseller) of the
        account: a manager is valid when some customer has it (docs/manifests.md)."""
        if not names - self.live.managers_seen:
            return
        self.progress.line(
            f"Looking for account manager(s) {', '.join(sorted(names))} on every customer..."
        )
        for d in (customer_directory(self.client), reseller_directory(self.client)):
            await self.census.read_all(d, self.pool(d.api))
            self.live.managers_seen |= self.census.managers
            if not names - self.live.managers_seen:
                return
