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

__all__ = ["cross_document_problems"]

_ENTRIES = 1 << 32  # entries of one document, at most


def cross_document_problems(documents: Sequence[Document]) -> list[ManifestProblem]:
    """Problems that no single document shows on its own."""
    return [
        *_duplicate_names(documents),
        *_extra_settings(documents),
        *_duplicate_customers(documents, "AccountManagers"),
        *_duplicate_customers(documents, "AutoRenew"),
        *_duplicate_resellers(documents),
        *_duplicate_resources(documents),
    ]


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


def _duplicate_names(documents: Sequence[Document]) -> Iterator[ManifestProblem]:
    seen = _FirstSeen()
    for doc in documents:
        if doc.kind and doc.name:
            label = f"{doc.kind} '{doc.name}'"
            yield from seen.check((doc.kind, doc.name), doc, ("metadata", "name"), label)


def _extra_settings(documents: Sequence[Document]) -> Iterator[ManifestProblem]:
    settings = _of_kind(documents, "Settings")
    for doc in settings[1:]:
        message = f"only one Settings document is allowed (the first is at {settings[0].start})"
        yield doc.problem(("kind",), message)


def _duplicate_customers(documents: Sequence[Document], kind: str) -> Iterator[ManifestProblem]:
    # 100,000 customers: remember each first declaration as one number (document, entry), not
    # as a position object, and work out positions only for the duplicates.
    first: dict[str, int] = {}
    docs = _of_kind(documents, kind)
    for number, doc in enumerate(docs):
        for path, entry in _entries(doc, "customers"):
            ref = _reference(entry, "customer", "customerId")
            if ref is None:
                continue
            here = number * _ENTRIES + int(path[-1])
            key = ref[1] if ref[0] == "customerId" else "\0" + ref[1]
            seen = first.setdefault(key, here)
            if seen != here:
                before = docs[seen // _ENTRIES].pos(("spec", "customers", seen % _ENTRIES, ref[0]))
                where = doc.pos((*path, ref[0]))
                message = (
                    f"{ref[0]} '{ref[1]}' in {kind} is declared twice (also declared at {before})"
                )
                yield ManifestProblem(where, format_path((*path, ref[0])), message)


def _duplicate_resellers(documents: Sequence[Document]) -> Iterator[ManifestProblem]:
    seen = _FirstSeen()
    for doc in _of_kind(documents, "ResellerQuota"):
        quota = _spec(doc).get("distributorQuota")
        if not isinstance(quota, str):
            continue
        for path, entry in _entries(doc, "resellers"):
            ref = _reference(entry, "reseller", "resellerId")
            if ref is not None:
                label = f"{ref[0]} '{ref[1]}' for distributor quota '{quota}'"
                yield from seen.check((quota, *ref), doc, (*path, ref[0]), label)


def _duplicate_resources(documents: Sequence[Document]) -> Iterator[ManifestProblem]:
    seen = _FirstSeen()
    for doc in _of_kind(documents, "AutoRenew"):
        for path, entry in _entries(doc, "customers"):
            resources = entry.get("resources")
            for resource_id in resources if isinstance(resources, dict) else {}:
                key_path = (*path, "resources", resource_id)
                label = f"resource '{resource_id}'"
                yield from seen.check(resource_id, doc, key_path, label, at_key=True)
