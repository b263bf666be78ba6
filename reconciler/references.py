"""References from manifests to live objects, and the listings that resolve them.

A :class:`Ref` is a customer or reseller as a manifest names it (an id or an account name), a
:class:`Directory` says how to find one kind of object (targeted query by id or by name, or a
page of the full listing), and a :class:`Listing` is a multi-page listing being fetched
concurrently, with the check that its pages add up (offset paging over a set that changes).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from reconciler.errors import SourcePosition

if TYPE_CHECKING:
    from reconciler.bss.models import Page
    from reconciler.desired import CustomerRef, DesiredState, ResellerRef

T = TypeVar("T")

Key = tuple[str | None, str | None]


@dataclass(frozen=True)
class Ref:
    ident: str | None
    name: str | None
    source: SourcePosition

    @property
    def key(self) -> Key:
        return (self.ident, self.name)


class RefIndex:
    """The references still unresolved, by id and by account name, for O(1) matching."""

    def __init__(self, refs: Iterable[Ref]) -> None:
        self.by_id: dict[str, list[Ref]] = {}
        self.by_name: dict[str, list[Ref]] = {}
        for ref in refs:
            if ref.ident:
                self.by_id.setdefault(ref.ident, []).append(ref)
            else:
                self.by_name.setdefault(ref.name or "", []).append(ref)

    def take(self, ident: str, name: str | None) -> list[Ref]:
        found = self.by_id.pop(ident, [])
        if name:
            found += self.by_name.pop(name, [])
        return found

    def pending(self) -> list[Ref]:
        return [r for refs in (*self.by_id.values(), *self.by_name.values()) for r in refs]

    def __len__(self) -> int:
        return sum(map(len, self.by_id.values())) + sum(map(len, self.by_name.values()))


@dataclass
class Directory(Generic[T]):
    """How to find one object type: by id, by name, or by listing every page."""

    what: str
    api: str
    id_of: Callable[[T], str]
    name_of: Callable[[T], str | None]
    by_id: Callable[[str], Awaitable[Page[T]]]
    by_name: Callable[[str], Awaitable[Page[T]]]
    page: Callable[[int], Awaitable[Page[T]]]
    hint: str


class Listing(Generic[T]):
    """A listing of several pages being fetched concurrently."""

    __slots__ = ("attempt", "done", "limit", "pages", "remaining", "totals")

    def __init__(self, first: Page[T], limit: int, attempt: int) -> None:
        count = math.ceil(first.total / limit)
        self.pages: list[Page[T] | None] = [first, *([None] * (count - 1))]
        self.remaining = count - 1
        self.totals = {first.total}
        self.limit = limit
        self.attempt = attempt
        self.done = False

    def consistent(self) -> bool:
        """Every page full but the last, which holds the rest, and one total throughout."""
        if len(self.totals) != 1:
            return False
        (total,) = self.totals
        sizes = [len(p.items) for p in self.pages if p is not None]
        expected = [min(self.limit, total - n * self.limit) for n in range(len(self.pages))]
        return sizes == expected


Fetch = Callable[[int, int], Awaitable["Page[T]"]]


def unique(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """Items in order, the first of each id only (offset paging can repeat items)."""
    seen: set[str] = set()
    out: list[T] = []
    for item in items:
        ident = key(item)
        if ident in seen:
            continue
        seen.add(ident)
        out.append(item)
    return out


async def lookup(ref: Ref, d: Directory[T]) -> T | None:
    if ref.ident:
        page = await d.by_id(ref.ident)
        return next((x for x in page.items if d.id_of(x) == ref.ident), None)
    name = ref.name or ""
    if not name or " " in name:
        return None
    page = await d.by_name(name)
    return next((x for x in page.items if d.name_of(x) == name), None)


def customer_refs(desired: DesiredState) -> list[Ref]:
    seen: dict[Key, Ref] = {}
    refs: list[CustomerRef] = [a.customer for a in desired.managers]
    refs += [r.customer for r in desired.auto_renew]
    for ref in refs:
        key = (ref.customer_id, ref.account_name)
        if key not in seen:
            seen[key] = Ref(ref.customer_id, ref.account_name, ref.source)
    return list(seen.values())


def reseller_refs(desired: DesiredState) -> list[Ref]:
    seen: dict[Key, Ref] = {}
    refs: list[ResellerRef] = [t.reseller for t in desired.quotas]
    for ref in refs:
        key = (ref.reseller_id, ref.account_name)
        if key not in seen:
            seen[key] = Ref(ref.reseller_id, ref.account_name, ref.source)
    return list(seen.values())
