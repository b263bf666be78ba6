"""Validated documents -> :class:`~reconciler.manifests.desired.DesiredState`, through the kinds.

Each document of a kind is built by that kind (:meth:`Kind.build
<reconciler.kinds.spec.Kind.build>`); the Settings document by
:func:`reconciler.manifests.build.settings_of`. The checksum covers :func:`canonical`: every
kind's entries (:meth:`Kind.canonical <reconciler.kinds.spec.Kind.canonical>`, under its
``canonical_key``, an empty list when it has none) and the settings with every kind's guard
limit in effect, streamed into the hash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from reconciler.kinds import registry
from reconciler.manifests.build import settings_of
from reconciler.manifests.desired import DesiredState, Settings, canonical_settings, checksum_of
from reconciler.manifests.document import API_VERSION, SETTINGS, Document

__all__ = ["Assembly", "build_desired", "canonical", "desired_state"]


def build_desired(documents: Sequence[Document]) -> DesiredState:
    """The desired state of validated ``documents`` (in the order given)."""
    assembly = Assembly()
    for doc in documents:
        assembly.add(doc)
    return assembly.finish()


class Assembly:
    """A desired state built a validated document at a time, in file order (a load may let go
    of each document once it is added: the entries keep nothing of it)."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Any]] = {k.id: [] for k in registry.KINDS}
        self._settings = Settings()
        self._files: dict[str, None] = {}

    def add(self, doc: Document) -> None:
        kind = registry.by_manifest(doc.kind)
        if kind is not None:
            self._entries[kind.id].extend(kind.build(doc))
        elif doc.kind == SETTINGS:
            self._settings = settings_of(doc)
        self._files.setdefault(doc.file)

    def extend(self, kind_id: str, entries: Sequence[Any]) -> None:
        """Entries built from the items of a list as a load streams them (they come before
        the rest of their document, which :meth:`add` is given when it ends)."""
        self._entries[kind_id].extend(entries)

    def finish(self) -> DesiredState:
        entries = {k: tuple(v) for k, v in self._entries.items()}
        self._entries.clear()
        return desired_state(entries, self._settings, tuple(self._files))


def desired_state(
    entries: Mapping[str, tuple[Any, ...]], settings: Settings, files: tuple[str, ...] = ()
) -> DesiredState:
    """A desired state of ``entries`` (by kind id) and ``settings``, with its checksum."""
    content = _content(entries, settings, streamed=True)
    return DesiredState(dict(entries), settings, files, checksum_of(content))


def canonical(desired: DesiredState) -> dict[str, Any]:
    """The content the checksum covers, as plain JSON-ready data in a stable order."""
    return _content(desired.entries, desired.settings, streamed=False)


def _content(
    entries: Mapping[str, tuple[Any, ...]], settings: Settings, *, streamed: bool
) -> dict[str, Any]:
    content: dict[str, Any] = {"apiVersion": API_VERSION}
    for kind in registry.KINDS:
        items: Iterator[Mapping[str, Any]] = kind.canonical(entries.get(kind.id, ()))
        content[kind.canonical_key] = items if streamed else [dict(i) for i in items]
    content["settings"] = canonical_settings(settings, limits(settings))
    return content


def limits(settings: Settings) -> dict[str, Decimal | int]:
    """Every kind's guard limit in effect: set in Settings ``spec.guards``, else its default."""
    return {
        spec.setting: settings.guards.limit(spec.setting, spec.default)
        for _, spec in registry.GUARDS
    }
