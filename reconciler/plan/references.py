"""References from manifests to live objects, and the listings that resolve them.

A :class:`Ref` is a customer or reseller as a manifest names it (an id or an account name), a
:class:`Directory` says how to find one kind of object (targeted query by id or by name, or a
page of the full listing), and a :class:`Listing` is a multi-page listing being fetched
concurrently, with the check that its pages add up (offset paging over a set that changes).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from reconciler.bss import operations as ops
from reconciler.bss.paging import short_listing
from reconciler.errors import SourcePosition
from reconciler.kinds import registry

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner, Page
    from reconciler.kinds.reads import Subject

T = TypeVar("T")

#: Page size of the customer and reseller listings (their documented maximum).
PAGE = 100
LIST_CUSTOMERS = "list_sub_customers"
LIST_RESELLERS = "list_indirect_partners"

Key = tuple[str | None, str | None]


class Ref(Protocol):
    """A customer or reseller as a manifest names it: by ID or by account name. The manifests'
    :class:`~reconciler.manifests.desired.CustomerRef` and ``ResellerRef`` are refs (no copy of
    100,000 of them is made for the reader)."""

    @property
    def ident(self) -> str | None: ...

    @property
    def name(self) -> str | None: ...

    @property
    def source(self) -> SourcePosition: ...

    @property
    def key(self) -> Key: ...


class RefIndex:
    """The references still unresolved, by id and by account name, for O(1) matching. A key
    holds its one reference itself (a tuple only when several share it), so 100,000 of them
    cost no list each. As references are taken the index by id is rebuilt smaller (a dict never
    shrinks by itself: 100,000 references by id, 5 MB, would stay until the end)."""

    def __init__(self, refs: Iterable[Ref]) -> None:
        self.by_id: dict[str, Ref | tuple[Ref, ...]] = {}
        self.by_name: dict[str, Ref | tuple[Ref, ...]] = {}
        self._count = 0
        for ref in refs:
            index, key = (self.by_id, ref.ident) if ref.ident else (self.by_name, ref.name or "")
            earlier = index.setdefault(key, ref)
            if earlier is not ref:
                index[key] = (*_several(earlier), ref)
            self._count += 1
        self._rebuild_below = len(self.by_id) // 4

    def take(self, ident: str, name: str | None) -> list[Ref]:
        found = list(_several(self.by_id.pop(ident, ())))
        if name:
            found += _several(self.by_name.pop(name, ()))
        self._count -= len(found)
        if found and len(self.by_id) < self._rebuild_below:
            self.by_id = dict(self.by_id)
            self._rebuild_below = len(self.by_id) // 4
        return found

    def pending(self) -> list[Ref]:
        return [
            r for refs in (*self.by_id.values(), *self.by_name.values()) for r in _several(refs)
        ]

    def __len__(self) -> int:
        return self._count


class Distinct:
    """How many distinct IDs a listing showed, counted by their ``hash`` in an open-addressing
    table of 64-bit integers: about 20 bytes an ID where a set of hashes takes 77 (the table
    and an integer object each) while 100,000 customers are listed. Two IDs with one hash
    count once (the listing is at worst called incomplete: the references it missed are then
    looked up one by one)."""

    __slots__ = ("_mask", "_table", "count")

    def __init__(self) -> None:
        self._table = array("q", bytes(8 * 1024))
        self._mask = 1023
        self.count = 0

    def add(self, ident: str) -> None:
        code = hash(ident) or 1  # 0 marks an empty slot
        table, mask = self._table, self._mask
        slot = code & mask
        while table[slot]:
            if table[slot] == code:
                return
            slot = (slot + 1) & mask
        table[slot] = code
        self.count += 1
        if self.count * 2 > mask:
            self._grow()

    def _grow(self) -> None:
        old = self._table
        self._mask = mask = len(old) * 2 - 1
        self._table = table = array("q", bytes(8 * (mask + 1)))
        for code in old:
            if code:
                slot = code & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = code

    def __len__(self) -> int:
        return self.count


def _several(held: Ref | tuple[Ref, ...]) -> tuple[Ref, ...]:
    return held if isinstance(held, tuple) else (held,)


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
    #: the account manager an object shows (customers and resellers both have one)
    manager_of: Callable[[T], str | None] = lambda _obj: None


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


def whole(
    api: str, limit: int, pages: Sequence[Page[T] | None], key: Callable[[T], str]
) -> list[T]:
    """The listing's items, de-duplicated, if they are as many as every total it announced;
    else :class:`~reconciler.errors.IncompleteListingError` (a clamped page size, or a set that
    changed while it was read: :func:`reconciler.bss.paging.short_listing` says which)."""
    read = [(n * limit, p) for n, p in enumerate(pages) if p is not None]
    items = unique([item for _, p in read for item in p.items], key)
    if read and read[0][1].total >= 0 and len(items) < max(p.total for _, p in read):
        op = next((o for o in ops.ALL if o.name == api), None)
        label = f"{op.method} {op.path} ({api})" if op is not None else api
        sizes = [(offset, len(p.items), p.total) for offset, p in read]
        raise short_listing(label, len(items), limit, sizes)
    return items


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


async def by_id(ident: str, d: Directory[T]) -> T | None:
    """One targeted query with the exact id filter."""
    page = await d.by_id(ident)
    return next((x for x in page.items if d.id_of(x) == ident), None)


async def by_name(name: str, d: Directory[T]) -> T | None:
    """One query with the (fuzzy, space-free) account-name filter, then an exact match."""
    if not name or " " in name:
        return None
    page = await d.by_name(name)
    return next((x for x in page.items if d.name_of(x) == name), None)


async def lookup(ref: Ref, d: Directory[T]) -> T | None:
    """The object a manifest reference names, or ``None``."""
    if ref.ident:
        return await by_id(ref.ident, d)
    return await by_name(ref.name or "", d)


async def by_id_or_name(value: str, d: Directory[T]) -> T | None:
    """A value that may be either (``export --customer``): the id first, then the name."""
    found = await by_id(value, d)
    if found is None:
        found = await by_name(value, d)
    return found


def customer_directory(client: BssClient) -> Directory[Customer]:
    c = client
    return Directory(
        what="customer",
        api=LIST_CUSTOMERS,
        id_of=lambda x: x.customer_id,
        name_of=lambda x: x.account_name,
        by_id=lambda v: c.list_sub_customers(customer_id=v, limit=PAGE),
        by_name=lambda v: c.list_sub_customers(account_name=v, limit=PAGE),
        page=lambda offset: c.list_sub_customers(offset=offset, limit=PAGE),
        hint=_export_hint("customer", "customers"),
        manager_of=lambda x: x.account_manager,
    )


def reseller_directory(client: BssClient) -> Directory[IndirectPartner]:
    c = client
    return Directory(
        what="reseller",
        api=LIST_RESELLERS,
        id_of=lambda x: x.indirect_partner_id,
        name_of=lambda x: x.account_name,
        by_id=lambda v: c.list_indirect_partners(indirect_partner_id=v, limit=PAGE),
        by_name=lambda v: c.list_indirect_partners(account_name=v, limit=PAGE),
        page=lambda offset: c.list_indirect_partners(offset=offset, limit=PAGE),
        hint=_export_hint("reseller", "resellers"),
        manager_of=lambda x: x.account_manager_id,
    )


def _export_hint(subject: Subject, plural: str) -> str:
    """``reconciler export --kind ID`` of the kind whose export lists ``subject`` at least cost
    (no reads of its own first)."""
    kinds = [k for k in registry.with_exports() if k.export_subjects == {subject}]
    if not kinds:
        return f"`reconciler export` lists your {plural}"
    best = min(kinds, key=lambda k: (len(k.reads), k.order))
    return f"`reconciler export --kind {best.id}` lists your {plural}"
