"""A long list of a manifest validated, checked and built a few items at a time, as it is parsed.

Parsed whole, a document of 100,000 customers is a mapping per customer, all held until the
document is validated and built; :func:`~reconciler.manifests.load.load_desired` instead has
the parser hand each item of such a list to a :class:`Stream`
(:class:`~reconciler.manifests.yamlstrict.ItemSink`) and let go of it, so a load holds a few
hundred items of YAML at a time besides the desired state it builds.

A list streams when its kind says its items can be taken alone (:attr:`Kind.streamed_list
<reconciler.kinds.spec.Kind.streamed_list>`), its schema lets its items be validated one at a
time (:func:`~reconciler.manifests.schemas.item_schema`), and its document names its ``kind``
before its ``spec``. Its items go in views of up to :data:`BATCH`: a :class:`Document` holding
a window of the list (``window``; the items with their indices and positions in the whole
file, nothing else of the document), which is

* validated against the schema of the items: one call while they are valid, else each item
  for its problems, which are those validating the whole document finds in it, at the same
  positions (the document itself is then validated with that list empty);
* given to its kind's crosschecks, the same checker its documents get, in file order;
* built by its kind, when it is valid and no problem has been found so far.

The problems of a document's items are kept until the document ends (:meth:`Stream.take`).
A file that ends inside such a document (a syntax error, a cap) raises
:class:`~reconciler.manifests.yamlstrict.StreamInterrupted`, and the load starts again reading
every document whole: its items were checked, but a whole read would not look at a document
it could not finish, so the problems reported stay exactly those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Set
from types import MappingProxyType
from typing import Any

from reconciler.errors import ManifestProblem
from reconciler.kinds import registry
from reconciler.kinds.spec import Kind
from reconciler.manifests.assemble import Assembly
from reconciler.manifests.document import Document, Window
from reconciler.manifests.schemas import fast_items_check, item_schema
from reconciler.manifests.validation import DocumentChecks, item_problems
from reconciler.manifests.yamlnodes import Positions, YamlList, pack
from reconciler.manifests.yamlstrict import Above, ItemTaker, JsonPath, LineCol, YamlValue

__all__ = ["BATCH", "Stream"]

#: Items a view holds: a few hundred cost about 100 KB, and make the calls per view cheap.
BATCH = 500
_NO_CONTENT: MappingProxyType[str, YamlValue] = MappingProxyType({})


class Stream:
    """The items of the lists a load streams: validated, checked by ``checks`` and built into
    ``assembly`` while ``found`` (the problems of the documents so far) is empty."""

    def __init__(
        self, checks: DocumentChecks, assembly: Assembly, found: Set[ManifestProblem]
    ) -> None:
        self._checks = checks
        self._assembly = assembly
        self._found = found
        self._problems: list[ManifestProblem] = []

    def open(
        self, file: str, index: int, kind: str, path: JsonPath, above: Above
    ) -> ItemTaker | None:
        """What takes the items of list ``path`` of a document of ``kind``, or ``None``."""
        found = registry.by_manifest(kind)
        key = str(path[1])
        if found is None or found.streamed_list != key or item_schema(kind, key) is None:
            return None
        view = _View(file, index, found, path, above)
        return _Batches(view, self._checks.of_kind(found.id), self)

    def add(self, problems: list[ManifestProblem], kind: Kind[Any], view: Document) -> None:
        """A view's problems, or else its entries while nothing is wrong."""
        if problems:
            self._problems.extend(problems)
        elif not self._problems and not self._found:
            self._assembly.extend(kind.id, kind.build(view))

    def take(self) -> list[ManifestProblem]:
        """The problems of the items streamed since the last call: call it as each document
        ends."""
        problems, self._problems = self._problems, []
        return problems


class _View:
    """Makes the views of one streamed list (its document's file, index and kind)."""

    def __init__(self, file: str, index: int, kind: Kind[Any], path: JsonPath, above: Above):
        self.file, self.index, self.kind, self.path = file, index, kind, path
        self.values, self.keys = above
        self.at = self.values.get(path, (1, 1))  # the list's

    def of(self, start: int, items: YamlList) -> Document:
        def positions(keys: bool) -> Positions:
            above = self.keys if keys else self.values
            return Positions(items, self.at, keys=keys, base=self.path, above=above, offset=start)

        return Document(
            file=self.file,
            index=self.index,
            kind=self.kind.manifest_kind,
            name="",
            content=_NO_CONTENT,
            values=positions(False),
            keys=positions(True),
            window=Window(self.path, start, items),
        )


class _Batches:
    """One streamed list's items, a view of up to :data:`BATCH` at a time: validated (one call
    while they are valid), checked, and built."""

    def __init__(
        self,
        view: _View,
        check: Callable[[Document], Iterable[ManifestProblem]],
        stream: Stream,
    ) -> None:
        self._view = view
        self._check = check
        self._stream = stream
        self._start = 0
        self._items = YamlList()
        self._at: list[int] = []

    def take(self, item: YamlValue, at: LineCol) -> None:
        self._items.append(item)
        self._at.append(pack(at))
        if len(self._items) >= BATCH:
            self.close()

    def close(self) -> None:
        if not self._items:
            return
        items, start = self._items, self._start
        items.place(self._at)
        self._items, self._at, self._start = YamlList(), [], start + len(items)
        view = self._view.of(start, items)
        kind, path = self._view.kind, self._view.path
        problems: list[ManifestProblem] = []
        if not fast_items_check(kind.manifest_kind, str(path[1]))(items):
            for number, item in enumerate(items, start):
                problems.extend(item_problems(view, kind.manifest_kind, (*path, number), item))
        problems.extend(self._check(view))
        self._stream.add(problems, kind, view)
