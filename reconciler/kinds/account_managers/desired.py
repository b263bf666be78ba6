"""The typed entries of ``AccountManagers`` documents, and their share of the checksum."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.build import customer_ref, entries, text
from reconciler.manifests.crosschecks import FirstSeen, list_entries, reference
from reconciler.manifests.desired import (
    CustomerRef,
    Packed,
    by_customer,
    customer_canonical,
    pack_positions,
    position,
)
from reconciler.manifests.document import Document


@dataclass(frozen=True, slots=True, init=False)
class ManagerAssignment:
    """``customer`` should have account manager ``manager`` (``None``: no manager).

    One of these per customer of a large account: it keeps its customer reference's fields and
    both positions in one integer (:func:`~reconciler.manifests.desired.pack_positions`)
    instead of a :class:`CustomerRef` and two position objects."""

    customer_id: str | None
    account_name: str | None
    manager: str | None
    _at: Packed

    def __init__(self, customer: CustomerRef, manager: str | None, source: SourcePosition) -> None:
        put = object.__setattr__
        put(self, "customer_id", customer.customer_id)
        put(self, "account_name", customer.account_name)
        put(self, "manager", manager)
        put(self, "_at", pack_positions((source, customer.source)))

    @property
    def customer(self) -> CustomerRef:
        return CustomerRef(self.customer_id, self.account_name, position(self._at, 1, 2))

    @property
    def source(self) -> SourcePosition:
        return position(self._at, 0, 2)


def build(doc: Document) -> list[ManagerAssignment]:
    return [
        ManagerAssignment(
            customer=customer_ref(doc, path, entry),
            manager=text(entry, "manager"),
            source=doc.pos(path),
        )
        for path, entry in entries(doc, "customers")
    ]


def canonical(assignments: Sequence[ManagerAssignment]) -> Iterator[Mapping[str, Any]]:
    for m in by_customer(assignments):
        yield {**customer_canonical(m), "manager": m.manager}


def checks(manifest_kind: str) -> Callable[[Document], Iterator[ManifestProblem]]:
    """A customer appears once across every document of the kind (compared by the reference
    as written: ``customer: acme`` and ``customerId: 42`` may still be the same customer, which
    only live state can tell)."""
    seen = FirstSeen()

    def check(doc: Document) -> Iterator[ManifestProblem]:
        yield from customers_once(seen, doc, manifest_kind)

    return check


def customers_once(seen: FirstSeen, doc: Document, manifest_kind: str) -> Iterator[ManifestProblem]:
    """Each customer reference of ``spec.customers`` not seen before (in ``seen``)."""
    for path, entry in list_entries(doc, "customers"):
        ref = reference(entry, "customer", "customerId")
        if ref is not None:
            label = f"{ref[0]} '{ref[1]}' in {manifest_kind}"
            # an ID is its own key (the manifest's string, no tuple per customer); a name is
            # keyed with its field, so the two never meet
            key = ref[1] if ref[0] == "customerId" else ref
            yield from seen.check(key, doc, (*path, ref[0]), label)
