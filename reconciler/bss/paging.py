"""Walk every page of an offset/limit list call.

Pages are fetched in order at ``offset = n * limit``. After the first page the total is known, so
up to ``prefetch`` further pages are requested at once (the pacer still spaces them); items are
yielded in page order. Paging stops when the offsets reach the total or a page comes back short.
Items already seen (by id) are dropped: offset paging over a set that changes underneath can
repeat items. A total that moved while paging is logged, because it can also mean skipped items.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

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
    for item in _new_items(first.items, key, seen):
        yield item
    if len(first.items) < limit:
        return
    total, next_offset = first.total, limit
    pending: deque[asyncio.Task[Page[T]]] = deque()
    try:
        while True:
            # An unknown total (< 0) means one page at a time until a short page.
            while len(pending) < prefetch and (next_offset < total if total >= 0 else not pending):
                pending.append(asyncio.ensure_future(fetch(next_offset, limit)))
                next_offset += limit
            if not pending:
                break
            page = await pending.popleft()
            if page.total != total and total >= 0:
                log.warning(
                    "%s: total changed from %d to %d while paging; re-read to be sure nothing "
                    "was skipped",
                    label,
                    total,
                    page.total,
                )
                total = page.total
            for item in _new_items(page.items, key, seen):
                yield item
            if len(page.items) < limit:
                break
    finally:
        await _cancel(pending)
