"""Walk every page of an offset/limit list call.

Pages are fetched in order at ``offset = n * limit``. After the first page the total is known, so
up to ``prefetch`` further pages are requested at once (the pacer still spaces them); items are
yielded in page order. Items already seen (by id) are dropped: offset paging over a set that
changes underneath can repeat items. A total that moved while paging is logged.

With a total, every page up to it is read, and a listing that ends with fewer items than a
total it announced raises :class:`~reconciler.errors.IncompleteListingError` (after yielding
what it read): the API served shorter pages than asked (it clamped the page size: REFERENCE
§7.3 leaves the maximum unknown) or the set changed under the offsets; decisions rest on whole
listings, so part of one is never taken for all of it. (Quotas and records are never deleted,
so an insert that shifted the offsets of such a listing always leaves it short of its total.)
Without a total (the field is optional) pages are read one at a time until a short one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

from reconciler.errors import IncompleteListingError

from .models import Page
from .redact import get_logger

log = get_logger(__name__)
T = TypeVar("T")

DEFAULT_PREFETCH = 4


def _new_items(items: Iterable[T], key: Callable[[T], str | None], seen: set[str]) -> list[T]:
    fresh: list[T] = []
    for item in items:
        ident = key(item)
        if ident is not None:
            if ident in seen:
                continue
            seen.add(ident)
        fresh.append(item)
    return fresh


async def _cancel(tasks: Iterable[asyncio.Task[Page[T]]]) -> None:
    waiting = list(tasks)
    for task in waiting:
        task.cancel()
    if waiting:
        await asyncio.gather(*waiting, return_exceptions=True)


def short_listing(
    label: str, got: int, limit: int, pages: Sequence[tuple[int, int, int]]
) -> IncompleteListingError:
    """The error for a listing that ended with ``got`` items, fewer than its total; ``pages``:
    ``(offset, items, total)`` of each page read, in any order."""
    totals = [total for _, _, total in pages]
    total = max(totals)
    most = max(size for _, size, _ in pages)
    if len(set(totals)) > 1:
        cause = (
            f"the set changed while it was read (its total moved between {min(totals)} and "
            f"{total}), so offsets moved under the pages"
        )
    elif most < limit and any(size < min(limit, total - offset) for offset, size, _ in pages):
        cause = (
            f"the API served at most {most} items per page although limit={limit} was asked "
            "(it clamped the page size), so the pages skipped items"
        )
    else:
        cause = (
            "its pages ran short of it while the total stayed the same (items replaced while "
            "it was read, or a wrong total)"
        )
    return IncompleteListingError(label=label, got=got, total=total, cause=cause)


async def iter_pages(
    fetch: Callable[[int, int], Awaitable[Page[T]]],
    *,
    key: Callable[[T], str | None],
    limit: int,
    prefetch: int = DEFAULT_PREFETCH,
    label: str = "list",
) -> AsyncIterator[T]:
    """Yield every item of every page, de-duplicated by ``key`` (``None`` = never a duplicate)."""
    if limit < 1 or prefetch < 1:
        raise ValueError("limit and prefetch must be at least 1")
    seen: set[str] = set()
    first = await fetch(0, limit)
    read = [(0, len(first.items), first.total)]
    fresh = _new_items(first.items, key, seen)
    got = len(fresh)
    for item in fresh:
        yield item
    total, next_offset = first.total, limit
    if total < 0 and len(first.items) < limit:
        return
    pending: deque[tuple[int, asyncio.Task[Page[T]]]] = deque()
    try:
        while True:
            # An unknown total (< 0) means one page at a time until a short page.
            while len(pending) < prefetch and (next_offset < total if total >= 0 else not pending):
                pending.append((next_offset, asyncio.ensure_future(fetch(next_offset, limit))))
                next_offset += limit
            if not pending:
                break
            offset, task = pending.popleft()
            page = await task
            read.append((offset, len(page.items), page.total))
            if page.total != total and total >= 0:
                log.warning(
                    "%s: total changed from %d to %d while paging", label, total, page.total
                )
                total = page.total
            fresh = _new_items(page.items, key, seen)
            got += len(fresh)
            for item in fresh:
                yield item
            if total < 0 and len(page.items) < limit:
                break
    finally:
        await _cancel(task for _, task in pending)
    if first.total >= 0 and got < max(t for _, _, t in read):
        raise short_listing(label, got, limit, read)
