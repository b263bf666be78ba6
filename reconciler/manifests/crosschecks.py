"""Checks that span documents and need no live state.

* ``metadata.name`` is unique per kind; there is at most one Settings document;
* a customer appears once across all AccountManagers documents, and once across all AutoRenew
  documents (compared by the reference as written: ``customer: acme`` and ``customerId: 42``
  may still be the same customer, which only live state can tell);
* a reseller appears once per distributor quota, a resource ID once across AutoRenew.

Each duplicate is reported at its later occurrence and names the first. The checks read
documents defensively: an entry the schema rejected is skipped here, not reported twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.loader import Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue, format_path

__all__ = ["CrossChecks", "cross_document_problems"]


def cross_document_problems(documents: Sequence[Document]) -> list[ManifestProblem]:
    """Problems that no single document shows on its own."""
    checks = CrossChecks()
    return [problem for doc in documents for problem in checks.add(doc)]


class CrossChecks:
    """The same checks a document at a time, for loads that do not keep every document (a
    document may be emptied once :meth:`add` has seen it)."""

    def __init__(self) -> None:
        self._names = _FirstSeen()
        self._settings: Document | None = None
        self._settings_at: SourcePosition | None = None
        self._customers = {kind: _FirstCustomer() for kind in ("AccountManagers", "AutoRenew")}
        self._resellers = _FirstSeen()
        self._resources = _FirstSeen()

    def add(self, doc: Document) -> list[ManifestProblem]:
        """The problems ``doc`` has with the documents added before it."""
        problems: list[ManifestProblem] = []
        if doc.kind and doc.name:
            label = f"{doc.kind} '{doc.name}'"
            problems += self._names.check((doc.kind, doc.name), doc, ("metadata", "name"), label)
        if doc.kind == "Settings":
            if self._settings_at is None:
                self._settings_at = doc.start
            else:
                msg = f"only one Settings document is allowed (the first is at {self._settings_at})"
                problems.append(doc.problem(("kind",), msg))
        if doc.kind in self._customers:
            problems += self._customers[doc.kind].check(doc)
        if doc.kind == "ResellerQuota":
            problems += _duplicate_resellers(doc, self._resellers)
        if doc.kind == "AutoRenew":
            problems += _duplicate_resources(doc, self._resources)
        return problems


class _FirstSeen:
    """Remembers where each key was first declared; reports later declarations."""

    def __init__(self) -> None:
        self._first: dict[Hashable, SourcePosition] = {}

    def check(
        self, key: Hashable, doc: Document, path: JsonPath, label: str, *, at_key: bool = False
    ) -> Iterator[ManifestProblem]:
        where = doc.key_pos(path) if at_key else doc.pos(path)
        first = self._first.setdefault(key, where)
        if first != where:
            message = f"{label} is declared twice (also declared at {first})"
            yield ManifestProblem(where, format_path(path), message)


def _of_kind(documents: Sequence[Document], kind: str) -> list[Document]:
    return [d for d in documents if d.kind == kind]


def _spec(doc: Document) -> dict[str, YamlValue]:
    spec = doc.content.get("spec")
    return spec if isinstance(spec, dict) else {}


def _entries(doc: Document, list_key: str) -> Iterator[tuple[JsonPath, dict[str, YamlValue]]]:
    items = _spec(doc).get(list_key)
    for index, entry in enumerate(items if isinstance(items, list) else []):
        if isinstance(entry, dict):
            yield ("spec", list_key, index), entry


def _reference(entry: dict[str, YamlValue], name_key: str, id_key: str) -> tuple[str, str] | None:
    """``(field, value)`` of an entry's customer or reseller, if exactly one is given."""
    name, ident = entry.get(name_key), entry.get(id_key)
    if isinstance(ident, str) and name_key not in entry:
        return id_key, ident
    if isinstance(name, str) and id_key not in entry:
        return name_key, name
    return None


class _FirstCustomer:
    """Customers declared so far in one kind's documents. 100,000 customers: each first
    declaration is remembered as one plain number (its position), not as a position object."""

    def __init__(self) -> None:
        self._first: dict[str, int] = {}

    def check(self, doc: Document) -> Iterator[ManifestProblem]:
        kind = doc.kind
        for path, entry in _entries(doc, "customers"):
            ref = _reference(entry, "customer", "customerId")
            if ref is None:
                continue
            key = ref[1] if ref[0] == "customerId" else "\0" + ref[1]
            seen = self._first.get(key)
            if seen is None:
                self._first[key] = int(doc.pos((*path, ref[0])))
                continue
            before = int.__new__(SourcePosition, seen)
            where = doc.pos((*path, ref[0]))
            message = f"{ref[0]} '{ref[1]}' in {kind} is declared twice (also declared at {before})"
            yield ManifestProblem(where, format_path((*path, ref[0])), message)


def _duplicate_resellers(doc: Document, seen: _FirstSeen) -> Iterator[ManifestProblem]:
    quota = _spec(doc).get("distributorQuota")
    if not isinstance(quota, str):
        return
    for path, entry in _entries(doc, "resellers"):
        ref = _reference(entry, "reseller", "resellerId")
        if ref is not None:
            label = f"{ref[0]} '{ref[1]}' for distributor quota '{quota}'"
            yield from seen.check((quota, *ref), doc, (*path, ref[0]), label)


def _duplicate_resources(doc: Document, seen: _FirstSeen) -> Iterator[ManifestProblem]:
    for path, entry in _entries(doc, "customers"):
        resources = entry.get("resources")
        for resource_id in resources if isinstance(resources, dict) else {}:
            key_path = (*path, "resources", resource_id)
            label = f"resource '{resource_id}'"
            yield from seen.check(resource_id, doc, key_path, label, at_key=True)
