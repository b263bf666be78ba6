"""What the kinds' entries want read: the declared reads (:mod:`reconciler.kinds.reads`) of
each kind with entries in the run, and which referenced objects each is about.

The reader (:mod:`reconciler.plan.reader`) resolves the customers and resellers every kind
references and, as each is found, queues the per-object reads (``EachListing``, ``EachCall``)
of the kinds referencing it; ``Batched`` reads follow once a subject's references are
resolved, ``Once`` reads start at once. The counts here are the totals the status line and the
ETA work from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.kinds import registry
from reconciler.kinds.reads import Batched, EachCall, EachListing, Once

if TYPE_CHECKING:
    from reconciler.kinds.reads import Subject
    from reconciler.kinds.spec import Kind
    from reconciler.manifests.desired import DesiredState

Key = tuple[str | None, str | None]
PerObject = EachListing[Any] | EachCall[Any]


@dataclass
class Wanted:
    """One kind's entries in the run: the objects they reference and the reads they declare."""

    kind: Kind[Any]
    #: subject -> the reference keys (``(id, account name)`` as written) of the kind's entries
    keys: dict[str, set[Key]] = field(
        default_factory=lambda: {"customer": set(), "reseller": set()}
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


def _by_subject() -> dict[str, set[Key]]:
    return {"customer": set(), "reseller": set()}


def wanted(desired: DesiredState) -> list[Wanted]:
    """Every kind with entries in ``desired``, with the keys its entries reference (a customer
    named with its reseller is that reseller's: only the reseller is the reader's to resolve)."""
    found: list[Wanted] = []
    for kind in registry.KINDS:
        entries = kind.entries(desired)
        if not entries:
            continue
        want = Wanted(kind)
        for entry in entries:
            refs = kind.references(entry)
            if refs.reseller is not None:
                want.keys["reseller"].add((refs.reseller.reseller_id, refs.reseller.account_name))
            elif refs.customer is not None:
                want.keys["customer"].add((refs.customer.customer_id, refs.customer.account_name))
        found.append(want)
    return found


def quota_ids(desired: DesiredState) -> list[str]:
    """Every coupon quota the entries of any kind name, sorted."""
    return sorted(
        {
            quota.quota_id
            for kind in registry.KINDS
            for entry in kind.entries(desired)
            for quota in kind.references(entry).quotas
        }
    )


def managers_named(desired: DesiredState) -> set[str]:
    """Every account manager the entries of any kind name."""
    return {name for kind in registry.KINDS for name in kind.managers_named(desired)}
