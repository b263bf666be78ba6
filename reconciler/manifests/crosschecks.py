"""Checks that span documents and need no live state.

Here, for every kind alike: ``metadata.name`` is unique per kind, and there is at most one
Settings document. Each kind adds its own (e.g. a customer declared twice), one document at a
time (:meth:`Kind.crosschecks <reconciler.kinds.spec.Kind.crosschecks>`), with the helpers
below; :mod:`reconciler.manifests.validation` runs them all.

Each duplicate is reported at its later occurrence and names the first. The checks read
documents defensively: an entry the schema rejected is skipped here, not reported twice.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from reconciler.errors import ManifestProblem
from reconciler.manifests import positions
from reconciler.manifests.document import SETTINGS, Document
from reconciler.manifests.yamlstrict import JsonPath, YamlValue, format_path

__all__ = [
    "FirstSeen",
    "SharedChecks",
    "cross_document_problems",
    "list_entries",
    "reference",
    "spec_of",
]


def cross_document_problems(documents: Sequence[Document]) -> list[ManifestProblem]:
    """Problems that no single document shows on its own, the same for every kind."""
    checks = SharedChecks()
    return [problem for doc in documents for problem in checks.check(doc)]


class FirstSeen:
    """Remembers where each key was first declared; reports later declarations. A load of
    100,000 customers holds one per customer and kind until it ends: the position is kept
    packed (:mod:`reconciler.manifests.positions`, 32 bytes rather than 40)."""

    def __init__(self) -> None:
        self._first: dict[Hashable, int] = {}

    def check(
        self, key: Hashable, doc: Document, path: JsonPath, label: str, *, at_key: bool = False
    ) -> Iterator[ManifestProblem]:
        where = doc.key_pos(path) if at_key else doc.pos(path)
        packed = positions.pack((where,))
        first = self._first.setdefault(key, packed)
        if first != packed:
            shown = positions.unpack(first, 0, 1)
            message = f"{label} is declared twice (also declared at {shown})"
            yield ManifestProblem(where, format_path(path), message)


def spec_of(doc: Document) -> dict[str, YamlValue]:
    """The document's ``spec``, or an empty one when it is not a mapping."""
    spec = doc.content.get("spec")
    return spec if isinstance(spec, dict) else {}


def list_entries(doc: Document, list_key: str) -> Iterator[tuple[JsonPath, dict[str, YamlValue]]]:
    """The mapping items of ``spec.<list_key>`` with their paths (others are skipped); of a
    streamed list's view (``doc.window``), the window's."""
    if doc.window is not None:
        start, items = doc.window.of(list_key)
    else:
        found = spec_of(doc).get(list_key)
        start, items = 0, found if isinstance(found, list) else []
    for index, entry in enumerate(items, start):
        if isinstance(entry, dict):
            yield ("spec", list_key, index), entry


def reference(entry: dict[str, YamlValue], name_key: str, id_key: str) -> tuple[str, str] | None:
    """``(field, value)`` of an entry's customer or reseller, if exactly one is given."""
    name, ident = entry.get(name_key), entry.get(id_key)
    if isinstance(ident, str) and name_key not in entry:
        return id_key, ident
    if isinstance(name, str) and id_key not in entry:
        return name_key, name
    return None


class SharedChecks:
    """The checks every kind shares, given the documents one at a time (a load may let go of
    each document once checked): a ``metadata.name`` used twice in a kind, a second Settings."""

    def __init__(self) -> None:
        self._names = FirstSeen()
        self._settings: Document | None = None

    def check(self, doc: Document) -> Iterator[ManifestProblem]:
        if doc.kind and doc.name:
            label = f"{doc.kind} '{doc.name}'"
            yield from self._names.check((doc.kind, doc.name), doc, ("metadata", "name"), label)
        if doc.kind == SETTINGS:
            if self._settings is None:
                self._settings = doc
            else:
                first = self._settings.start
                message = f"only one Settings document is allowed (the first is at {first})"
                yield doc.problem(("kind",), message)
