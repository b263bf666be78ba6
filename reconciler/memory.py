"""Give the memory the C allocator holds free back to the system, during long reads; run a
coroutine without formatting its result (:func:`run`).

A plan of 100,000 customers reads a page per customer: each answer's body, and each dict table
that grows as objects are found, is allocated by the C allocator (Python's own small-object
allocator takes only blocks up to 512 bytes), used and freed while long-lived objects are
allocated around it. glibc keeps the freed holes in its heap and returns memory to the system
only from the heap's top, so the process's resident memory grows well past what it holds (about
290 bytes a customer of a 30,000-customer plan). ``malloc_trim`` hands the free pages of those
holes back. Elsewhere than glibc (musl, macOS) there is nothing to call and this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["release_free_memory", "run", "trimmer"]

T = TypeVar("T")


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_memory(*, collect: bool = False) -> None:
    """Return the C heap's free pages to the system (glibc only; otherwise nothing); first
    free what only the cyclic collector can (``collect``: a full collection)."""
    if collect:
        gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def trimmer(every: int) -> Callable[[], None]:
    """A callable that releases free memory on every ``every``-th call (a reader calls it once
    per API call: a trim walks the heap, about a millisecond for a plan of 100,000)."""
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count % every == 0:
            release_free_memory()

    return tick


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, without a ``repr`` of what ``main`` returns.

    On Python 3.11 ``asyncio.run`` restores the SIGINT handler after its task is done and, on the
    way, formats the task's ``repr`` and with it the ``repr`` of the task's result
    (python/cpython#112559): for a plan of 100,000 customers, the text of every change, 8 MB,
    the process's peak. Here the task's result is ``None`` and ``main``'s result is handed over
    beside it. Exceptions, cancellation and Ctrl-C behave as with ``asyncio.run``.
    """
    result: list[T] = []

    async def task() -> None:
        result.append(await main)

    asyncio.run(task())
    return result[0]
