"""One manifest document with the position of every node in it, and the manifest constants.

Below every kind (each kind's builder and checks read :class:`Document`), so it names none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.yamlstrict import JsonPath, LineCol, YamlValue, format_path

API_GROUP = "partner-reconciler/"
API_VERSION = "partner-reconciler/v1"
#: The one manifest kind that is no kind of desired state: run-wide settings.
SETTINGS = "Settings"


@dataclass(frozen=True)
class Window:
    """Consecutive items of list ``path`` (``("spec", key)``), the first at index ``start``."""

    path: JsonPath
    start: int
    items: Sequence[YamlValue]

    def of(self, key: str) -> tuple[int, Sequence[YamlValue]]:
        """The index of the first item and the items, when the window is of ``spec.<key>``."""
        return (self.start, self.items) if self.path == ("spec", key) else (0, ())


@dataclass(frozen=True)
class Document:
    """One manifest document: its plain content and the position of every node in it.

    ``index`` counts documents in the file from 0. ``kind`` and ``name`` are ``""`` when the
    document lacks them (validation reports that).

    ``window``: set on the views a streaming load makes of a long list's items as it parses
    them (:mod:`reconciler.manifests.stream`), a few hundred at a time. Such a view has no other
    content; :func:`~reconciler.manifests.build.entries` and
    :func:`~reconciler.manifests.crosschecks.list_entries` yield the window's items, with their
    paths in the whole document.
    """

    file: str
    index: int
    kind: str
    name: str
    content: Mapping[str, YamlValue]
    values: Mapping[JsonPath, LineCol] = field(repr=False, compare=False)
    keys: Mapping[JsonPath, LineCol] = field(repr=False, compare=False)
    window: Window | None = field(default=None, repr=False, compare=False)

    def pos(self, path: JsonPath = ()) -> SourcePosition:
        """Where the value at ``path`` starts, or its nearest ancestor's start."""
        found = self.values.get(path)
        while found is None and path:
            path = path[:-1]
            found = self.values.get(path)
        line, col = found or (1, 1)
        return SourcePosition(self.file, line, col)

    def key_pos(self, path: JsonPath) -> SourcePosition:
        """Where the key of ``path`` starts (the value's position for list items)."""
        if path in self.keys:
            line, col = self.keys[path]
            return SourcePosition(self.file, line, col)
        return self.pos(path)

    def problem(self, path: JsonPath, message: str, *, at_key: bool = False) -> ManifestProblem:
        """A problem located at ``path`` in this document."""
        where = self.key_pos(path) if at_key else self.pos(path)
        return ManifestProblem(where, format_path(path), message)

    @property
    def label(self) -> str:
        """``ResellerQuota 'q4'``, for messages."""
        return f"{self.kind or 'document'} '{self.name}'" if self.name else self.kind

    @property
    def start(self) -> SourcePosition:
        return self.pos(())
