"""What the kinds' entries want read: the declared reads (:mod:`reconciler.kinds.reads`) of
each kind with entries in the run, and which referenced objects each is about.

The reader (:mod:`reconciler.plan.reader`) resolves the customers and resellers every kind
references and, as each is found, queues the per-object reads (``EachListing``, ``EachCall``)
of the kinds referencing it; ``Batched`` reads follow once a subject's references are
resolved, ``Once`` reads start at once. The counts here are the totals the status line and the
ETA work from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.kinds import registry
from reconciler.kinds.reads import Batched, EachCall, EachListing, Once

if TYPE_CHECKING:
    from reconciler.kinds.reads import Subject
    from reconciler.kinds.spec import Kind
    from reconciler.manifests.desired import DesiredState
    from reconciler.plan.references import Ref

Key = tuple[str | None, str | None]
#: A reference key as :class:`Wanted` holds it: the ID alone when the reference names only an ID
#: (one string per customer, where a tuple would cost 56 bytes more), else the key itself.
Held = str | Key


def held(key: Key) -> Held:
    ident, name = key
    return ident if name is None and ident is not None else key


def unheld(key: Held) -> Key:
    return (key, None) if isinstance(key, str) else key


SUBJECTS: tuple[Subject, ...] = ("customer", "reseller")
PerObject = EachListing[Any] | EachCall[Any]


@dataclass
class Wanted:
    """One kind's entries in the run: the objects they reference and the reads they declare."""

    kind: Kind[Any]
    #: subject -> reference key (``(id, account name)`` as written, :func:`held`) -> the kind's
    #: entry naming it (:class:`Several` when more than one does, in file order)
    entries: dict[str, dict[Held, Any]] = field(
        default_factory=lambda: {"customer": {}, "reseller": {}}
    )

    def per_object(self, subject: Subject) -> Iterator[PerObject]:
        """Its reads made once per referenced object of ``subject``."""
        for read in self.kind.reads:
            if isinstance(read, EachListing | EachCall) and read.subject == subject:
                yield read

    def batched(self, subject: Subject) -> Iterator[Batched[Any]]:
        for read in self.kind.reads:
            if isinstance(read, Batched) and read.subject == subject:
                yield read

    def once(self) -> Iterator[Once[Any]]:
        for read in self.kind.reads:
            if isinstance(read, Once):
                yield read

    def naming(self, subject: Subject, keys: Iterable[Key]) -> tuple[Any, ...]:
        """Its entries naming an object by any of ``keys``, each once."""
        by_key = self.entries[subject]
        found: dict[int, Any] = {}
        for key in keys:
            entry = by_key.get(held(key))
            for one in entry if type(entry) is Several else () if entry is None else (entry,):
                found.setdefault(id(one), one)
        return tuple(found.values())

    def names(self, subject: Subject, key: Key) -> bool:
        """Whether an entry names the reference ``key``."""
        return held(key) in self.entries[subject]

    def keys(self, subject: Subject) -> Iterator[Key]:
        """The reference keys its entries name."""
        return map(unheld, self.entries[subject])

    def release(self, subject: Subject) -> None:
        """Let go of its entries of ``subject`` by reference (the reader does once every
        reference of the subject is resolved and no read of the kind asks again: 100,000
        references are a dict of 5 MB); the entries themselves stay in the desired state."""
        self.entries[subject] = {}


class Several(list[Any]):
    """The entries of a kind naming one reference key, when there are several (a single
    entry is held as it is: 100,000 of them need no list each)."""


@dataclass
class Declared:
    """What the entries of every kind name, from one pass over them (the first output line
    waits for it: two hundred thousand entries are read once, not once per question)."""

    #: every kind with entries, with its entries by the keys they reference
    wants: list[Wanted]
    #: subject -> each object named, once: its first reference in registry and file order
    refs: dict[str, list[Ref]]
    #: every coupon quota named, sorted
    quota_ids: list[str]


def declared(desired: DesiredState) -> Declared:
    """Every kind with entries in ``desired``, with its entries by the keys they reference (a
    customer named with its reseller is that reseller's: only the reseller is the reader's to
    resolve), the objects named and the quotas named. A customer named by ID is held under the
    manifest's ID string (:func:`held`), one object for every kind; no other index of 100,000
    keys is built here."""
    wants: list[Wanted] = []
    refs_of: dict[str, list[Ref]] = {"customer": [], "reseller": []}
    quotas: set[str] = set()
    for kind in registry.KINDS:
        entries = kind.entries(desired)
        if not entries:
            continue
        want = Wanted(kind)
        for entry in entries:
            refs = kind.references(entry)
            quotas.update(quota.quota_id for quota in refs.quotas)
            ref: Ref | None = refs.reseller or refs.customer
            if ref is None:
                continue
            subject = "reseller" if refs.reseller is not None else "customer"
            key = held(ref.key)
            by_key = want.entries[subject]
            earlier = by_key.setdefault(key, entry)
            if earlier is entry:
                if not any(key in w.entries[subject] for w in wants):
                    refs_of[subject].append(ref)  # its first reference, in registry and file order
                continue
            if type(earlier) is not Several:
                earlier = by_key[key] = Several([earlier])
            earlier.append(entry)
        wants.append(want)
    return Declared(wants, refs_of, sorted(quotas))


def managers_named(desired: DesiredState) -> set[str]:
    """Every account manager the entries of any kind name."""
    return {name for kind in registry.KINDS for name in kind.managers_named(desired)}
