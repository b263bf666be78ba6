"""The reads a kind declares; the shared reader (:mod:`reconciler.plan.reader`) makes them.

A kind never calls the API while planning: it declares what it needs read besides the customers,
resellers and quotas its entries reference (which the reader resolves for every kind), and the
reader schedules each declared read on its API's worker pool at that API's rate, pipelined behind
the resolution of the objects it is about. What a read found is in
:class:`~reconciler.kinds.base.LiveState`: ``live.lists(read)``, ``live.each(read)``,
``live.once(read)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Page

T = TypeVar("T")

#: The shared objects a desired entry can reference: the reader resolves them for every kind.
Subject = Literal["customer", "reseller"]


@dataclass(frozen=True)
class EachListing(Generic[T]):
    """A paged listing per customer (or reseller) this kind's entries reference.

    The reader queues it as soon as the object is resolved, fetches the pages of a long listing
    concurrently on the API's worker pool (pages of ``page`` items), de-duplicates by ``key``,
    reads it again when its total moved while paging, and keeps the items ``keep`` accepts in
    ``live.lists(read)[object_id]``.

    ``prune``, when given, is told which of the kind's entries the object is read for (every
    entry naming it, by ID or by account name) and gets the items ``keep`` accepted; it returns
    the items the kind's diff needs and how many it left out because they already are as those
    entries want (``live.in_sync(read)`` adds them up, for the plan's in-scope count). Hundreds
    of thousands of resources of which nearly all agree with their manifest are then counted,
    not kept. It must keep every item a decision or a problem of the diff rests on, and any
    item missing a field that says whether it is in sync.
    """

    name: str  #: unique across kinds: ``"<kind id>/<what>"``
    api: str  #: the operation name: its pacer, its worker pool and its rate
    subject: Subject
    page: int
    fetch: Callable[[BssClient, str, int, int], Awaitable[Page[T]]]  #: (client, id, offset, limit)
    key: Callable[[T], str]
    label: str  #: for the progress line, plural: ``"resource lists"``
    keep: Callable[[T], bool] = lambda _item: True
    prune: Callable[[Sequence[Any], list[T]], tuple[list[T], int]] | None = None


@dataclass(frozen=True)
class EachCall(Generic[T]):
    """One call per customer (or reseller) this kind's entries reference:
    ``live.each(read)[object_id]``."""

    name: str
    api: str
    subject: Subject
    fetch: Callable[[BssClient, str], Awaitable[T]]
    label: str


@dataclass(frozen=True)
class Batched(Generic[T]):
    """Many referenced customers (or resellers) per call: up to ``batch`` IDs, ``fetch`` returns
    what the API knows of them (``key`` gives each item's object ID). An ID the answer leaves out
    is absent from ``live.each(read)``: unknown, never zero."""

    name: str
    api: str
    subject: Subject
    batch: int
    fetch: Callable[[BssClient, Sequence[str]], Awaitable[Iterable[T]]]
    key: Callable[[T], str]
    label: str


@dataclass(frozen=True)
class Once(Generic[T]):
    """One call for the whole plan (e.g. the partner's own balance): ``live.once(read)``; only
    made when the kind has entries in the run."""

    name: str
    api: str
    fetch: Callable[[BssClient], Awaitable[T]]
    label: str


Read = EachListing[Any] | EachCall[Any] | Batched[Any] | Once[Any]
