"""Listings of several pages for :class:`~reconciler.plan.reader.Reader` (a mixin: the reader
provides pools and ticks).

The first page tells the total; the other pages are queued ahead of new work on the same API's
pool (so a listing finishes early and its pages are not held in memory for long) and fetched
concurrently. A listing whose total moved between its pages is read again (at most
:data:`~reconciler.plan.resolve.REREADS` times), then kept de-duplicated if it holds as many
items as its totals say (:func:`~reconciler.plan.references.whole` fails closed otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reconciler.bss.redact import get_logger
from reconciler.plan.pools import ApiPool, Job
from reconciler.plan.references import Fetch, Listing, unique, whole
from reconciler.plan.resolve import REREADS

log = get_logger(__name__)
T = TypeVar("T")


class Listings:
    """Whole listings on a worker pool."""

    def _tick(self, api: str) -> None:
        raise NotImplementedError

    def _list_all(
        self,
        pool: ApiPool,
        fetch: Fetch[T],
        limit: int,
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
        attempt: int = 0,
    ) -> None:
        """Queue a whole listing: the first page, then (urgently) the others it announces."""

        async def first() -> None:
            await self._first_page(pool, fetch, limit, key, done, attempt)

        pool.submit(first)

    async def _first_page(
        self,
        pool: ApiPool,
        fetch: Fetch[T],
        limit: int,
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
        attempt: int = 0,
    ) -> None:
        """A listing's first page, in a job of ``pool``; the pages it announces are queued."""
        page = await fetch(0, limit)
        if len(page.items) < limit or 0 <= page.total <= limit:
            done(whole(pool.api, limit, [page], key))
        elif page.total < 0:  # no total: one page after another until a short one
            items = list(page.items)
            while len(page.items) == limit:
                self._tick(pool.api)
                page = await fetch(len(items), limit)
                items += page.items
            done(unique(items, key))
        else:
            listing: Listing[T] = Listing(page, limit, attempt)
            for n in range(1, len(listing.pages)):
                pool.submit(self._page_job(pool, listing, n, fetch, key, done), urgent=True)
        self._tick(pool.api)

    def _page_job(
        self,
        pool: ApiPool,
        listing: Listing[T],
        n: int,
        fetch: Fetch[T],
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
    ) -> Job:
        async def job() -> None:
            page = await fetch(n * listing.limit, listing.limit)
            listing.pages[n] = page
            listing.totals.add(page.total)
            listing.remaining -= 1
            if not listing.remaining:
                self._complete(pool, listing, fetch, key, done)
            self._tick(pool.api)

        return job

    def _complete(
        self,
        pool: ApiPool,
        listing: Listing[T],
        fetch: Fetch[T],
        key: Callable[[T], str],
        done: Callable[[list[T]], None],
    ) -> None:
        """Every page is in: hand the items over, or read again if the total moved meanwhile."""
        consistent = listing.consistent()
        if not consistent and listing.attempt < REREADS:
            log.info("total moved while paging %s; reading again", sorted(listing.totals))
            self._list_all(pool, fetch, listing.limit, key, done, listing.attempt + 1)
            return
        if not consistent:
            log.warning(
                "a listing kept changing while it was read (totals %s); keeping what was read, "
                "de-duplicated, if it holds as many items as its totals say",
                sorted(listing.totals),
            )
        done(whole(pool.api, listing.limit, listing.pages, key))
