"""A wider look at the account when a manifest names something that is not there.

The reader resolves references with the fewest calls, so it usually never sees the names a
typo was meant to be. When a reference does not resolve, or a manager is neither in the
Settings roster nor on any customer the manifests mention, the answer must still be true and
helpful:

* **Unknown customer or reseller**: "did you mean" from the names (and IDs) of the account. They
  come from the pages a whole listing already read; otherwise the whole listing is read when it
  is at most :data:`SUGGEST_PAGES` pages, else a few fuzzy name queries (the API's
  ``account_name`` filter matches any part of a name) stand in for it.
* **Unknown account manager**: a manager is valid when *some customer of the account* has it
  (docs/manifests.md), so before calling one unknown the whole customer listing is read, once,
  however long: the alternative is a false error. Managers of resellers count too (the same
  Partner Center organisation members).

Nothing here runs on the happy path: a plan whose references all resolve makes no extra call.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import ManifestProblem, did_you_mean
from reconciler.plan.references import PAGE, Directory, Ref

if TYPE_CHECKING:
    from reconciler.plan.pools import ApiPool

#: Read a whole listing for suggestions only up to this many pages (5,000 objects).
SUGGEST_PAGES = 50
#: Fuzzy ``account_name`` queries for a name when the listing is too long to read for it.
FRAGMENT_LENGTH = 3


#: Separates the strings of one page in :class:`Strings` (names holding it are kept apart).
SEP = "\0"


class Strings:
    """Strings seen on listing pages, one compressed string per page: the IDs and names of every
    customer a 100,000-customer listing showed are kept for "did you mean" hints, which only
    a reference that does not resolve needs; as objects in a set they would cost more than a
    hundred bytes each, and a page's IDs and names compress to about half."""

    def __init__(self) -> None:
        self._pages: list[bytes] = []
        self._odd: set[str] = set()  # strings holding SEP

    def update(self, values: Iterable[str]) -> None:
        plain = []
        for value in values:
            if SEP in value:
                self._odd.add(value)
            else:
                plain.append(value)
        if plain:
            self._pages.append(zlib.compress(SEP.join(plain).encode("utf-8"), 1))

    def expanded(self) -> frozenset[str]:
        """Every string seen (decompressed once: look many up in this)."""
        pages = (zlib.decompress(page).decode("utf-8").split(SEP) for page in self._pages)
        return frozenset(value for page in pages for value in page) | self._odd

    def __contains__(self, value: object) -> bool:
        return value in self.expanded()

    def __iter__(self) -> Iterator[str]:
        """Each string once."""
        return iter(self.expanded())


@dataclass
class Seen:
    """What listings of one object type showed."""

    names: Strings = field(default_factory=Strings)
    ids: Strings = field(default_factory=Strings)
    complete: bool = False


class Census:
    """Names, IDs and managers seen on listing pages, per object type (``customer``, ...)."""

    def __init__(self) -> None:
        self.seen: dict[str, Seen] = {}
        #: account managers of every customer or reseller seen on a listing
        self.managers: set[str] = set()

    def of(self, what: str) -> Seen:
        return self.seen.setdefault(what, Seen())

    def record(self, d: Directory[Any], items: Iterable[Any]) -> None:
        seen = self.of(d.what)
        items = list(items)
        seen.ids.update(d.id_of(item) for item in items)
        seen.names.update(name for item in items if (name := d.name_of(item)))
        for item in items:
            manager = d.manager_of(item)
            if manager:
                self.managers.add(manager)

    async def read_all(self, d: Directory[Any], pool: ApiPool) -> None:
        """Every page of ``d``'s listing through ``pool`` (once)."""
        if self.of(d.what).complete:
            return
        first = await d.page(0)
        self.record(d, first.items)
        for n in range(1, math.ceil(first.total / PAGE)):

            async def job(offset: int = n * PAGE) -> None:
                self.record(d, (await d.page(offset)).items)

            pool.submit(job)
        await pool.join()
        self.of(d.what).complete = True

    async def suggest(self, refs: list[Ref], d: Directory[Any], pool: ApiPool) -> dict[Ref, str]:
        """A "did you mean" (or ``""``) for each unresolved reference."""
        if not refs:
            return {}
        seen = self.of(d.what)
        if not seen.complete:
            first = await d.page(0)
            self.record(d, first.items)
            if math.ceil(first.total / PAGE) <= SUGGEST_PAGES:
                await self.read_all(d, pool)
            else:
                await self._fuzzy([r.name for r in refs if r.name], d, pool)
        names, ids = seen.names.expanded(), seen.ids.expanded()
        return {ref: _hint(ref, names, ids, d.what) for ref in refs}

    async def _fuzzy(self, names: list[str], d: Directory[Any], pool: ApiPool) -> None:
        """A few ``account_name`` (infix) queries per name, instead of a long listing."""
        fragments = sorted({f for name in names for f in _fragments(name)})
        for fragment in fragments:

            async def job(text: str = fragment) -> None:
                self.record(d, (await d.by_name(text)).items)

            pool.submit(job)
        await pool.join()


def _hint(ref: Ref, names: frozenset[str], ids: frozenset[str], what: str) -> str:
    """``what`` is also the manifest key: ``customer`` / ``customerId``."""
    if ref.ident:
        if ref.ident in names:  # an account name written as an ID
            return f" (did you mean `{what}: {ref.ident}`, an account name?)"
        return did_you_mean(ref.ident, ids, cutoff=0.8)
    name = ref.name or ""
    if name in ids:  # an ID written as an account name
        return f' (did you mean `{what}Id: "{name}"`, an ID?)'
    return did_you_mean(name, names)


def _fragments(name: str) -> set[str]:
    """Parts of a mistyped name that the intended one probably shares: its first and last
    :data:`FRAGMENT_LENGTH` characters (typos are rarely there) and its longer words."""
    if len(name) < FRAGMENT_LENGTH or " " in name:
        return set()
    words = {w for w in re.split(r"[-_.]", name) if len(w) > FRAGMENT_LENGTH}
    return {name[:FRAGMENT_LENGTH], name[-FRAGMENT_LENGTH:], *words}


def unresolved_problems(
    refs: Iterable[Ref], d: Directory[Any], hints: dict[Ref, str]
) -> list[ManifestProblem]:
    """One problem per reference the account does not have, at its manifest position."""
    problems = []
    for ref in refs:
        key = f"{d.what}Id" if ref.ident else d.what
        shown = ref.ident or ref.name
        message = f"no {d.what} {shown!r} in the partner account{hints.get(ref, '')} ({d.hint})"
        problems.append(ManifestProblem(ref.source, key, message))
    return problems
