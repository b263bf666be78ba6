"""The typed entries of ``AccountManagers`` documents, and their share of the checksum."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.build import customer_ref, entries, text
from reconciler.manifests.crosschecks import FirstSeen, list_entries, reference
from reconciler.manifests.desired import CustomerRef, ref_key
from reconciler.manifests.document import Document


@dataclass(frozen=True)
class ManagerAssignment:
    """``customer`` should have account manager ``manager`` (``None``: no manager)."""

    customer: CustomerRef
    manager: str | None
    source: SourcePosition


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
    for m in sorted(assignments, key=lambda m: ref_key(m.customer.canonical())):
        yield {**m.customer.canonical(), "manager": m.manager}


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
            yield from seen.check(ref, doc, (*path, ref[0]), label)
