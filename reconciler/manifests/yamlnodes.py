"""The values strict YAML parses into (:mod:`reconciler.manifests.yamlstrict`), with a position
for every node: mappings and lists are :class:`YamlMap` and :class:`YamlList` (a ``dict`` and a
``list``) that keep the positions of their children packed in bytes (8 per position), looked up
by JSON path (a tuple of keys and indices) through :class:`Positions`; an unquoted decimal
fraction is a :class:`PlainNumber`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeAlias


class PlainNumber(Decimal):
    """An unquoted decimal fraction such as ``12.5``. Validation always reports it.

    It is a number (so JSON Schema type checks treat it as one) that remembers its text, so the
    message can say ``write it as a quoted string, e.g. "12.50"``.
    """

    text: str

    def __new__(cls, text: str) -> PlainNumber:
        self = super().__new__(cls, text)
        self.text = text
        return self


PathKey: TypeAlias = "str | int"
JsonPath: TypeAlias = "tuple[PathKey, ...]"
YamlValue: TypeAlias = (
    "dict[str, YamlValue] | list[YamlValue] | str | int | bool | PlainNumber | None"
)
LineCol: TypeAlias = tuple[int, int]
_PACK = struct.Struct("<Q")
_HALF = 1 << 32


def pack(line_col: LineCol) -> int:
    return line_col[0] * _HALF + line_col[1]


def pack_all(packed: list[int]) -> bytes:
    """Packed positions (:func:`pack`), 8 bytes each."""
    return struct.pack(f"<{len(packed)}Q", *packed)


def unpack(packed: bytes, index: int) -> LineCol:
    value = _PACK.unpack_from(packed, 8 * index)[0]
    return (value >> 32, value & (_HALF - 1))


class YamlMap(dict[str, YamlValue]):
    """A mapping node: a ``dict``, plus where each key and each value starts."""

    __slots__ = ("_at", "_order")

    def __init__(self) -> None:
        super().__init__()
        self._at = b""  # key, value, key, value... in key order
        self._order: dict[str, int] | None = None

    def index(self, key: str) -> int:
        if len(self) <= 16:
            return list(self).index(key)
        if self._order is None or len(self._order) != len(self):
            self._order = {k: n for n, k in enumerate(self)}
        return self._order[key]

    def place(self, packed: list[int]) -> None:
        """The positions (:func:`pack`) of its keys and values: key, value, key, value..."""
        self._at = pack_all(packed)

    def value_at(self, key: str) -> LineCol:
        return unpack(self._at, 2 * self.index(key) + 1)

    def key_at(self, key: str) -> LineCol:
        return unpack(self._at, 2 * self.index(key))


class YamlList(list[YamlValue]):
    """A list node: a ``list``, plus where each item starts."""

    __slots__ = ("_at",)

    def __init__(self) -> None:
        super().__init__()
        self._at = b""

    def place(self, packed: list[int]) -> None:
        """The positions (:func:`pack`) of its items."""
        self._at = pack_all(packed)

    def value_at(self, index: int) -> LineCol:
        return unpack(self._at, index)


def _child(node: object, key: PathKey) -> bool:
    if isinstance(node, YamlMap):
        return isinstance(key, str) and key in node
    return isinstance(node, YamlList) and isinstance(key, int) and 0 <= key < len(node)


class Positions(Mapping[JsonPath, LineCol]):
    """Where each node (``keys=False``) or each mapping key (``keys=True``) of a document
    starts, by JSON path: a view over the positions its mappings and lists keep.

    ``root`` is the node at path ``base``: the document's root when ``base`` is ``()``; else a
    window of a list a load streams (its item ``offset`` is the root's first), and ``above``
    holds the positions at ``base`` and above it (the document's root, ``spec``, the list)."""

    def __init__(
        self,
        root: YamlValue,
        root_at: LineCol,
        *,
        keys: bool,
        base: JsonPath = (),
        above: Mapping[JsonPath, LineCol] | None = None,
        offset: int = 0,
    ) -> None:
        self._root = root
        self._root_at = root_at
        self._keys = keys
        self._base = base
        self._above = above or {}
        self._offset = offset

    def __getitem__(self, path: JsonPath) -> LineCol:
        depth = len(self._base)
        if depth:
            if path[:depth] != self._base:
                return self._above[path]
            path = path[depth:]
            if path and isinstance(path[0], int):
                path = (path[0] - self._offset, *path[1:])
        if not path:
            if self._keys:
                return self._above[self._base]  # a list item's or the root's: no key
            return self._root_at
        return self._find(path)

    def _find(self, path: JsonPath) -> LineCol:
        node: object = self._root
        for key in path[:-1]:
            if not _child(node, key):
                raise KeyError(path)
            node = node[key]  # type: ignore[index]
        last = path[-1]
        if not _child(node, last):
            raise KeyError(path)
        if isinstance(node, YamlMap):
            assert isinstance(last, str)
            return node.key_at(last) if self._keys else node.value_at(last)
        if self._keys:
            raise KeyError(path)
        assert isinstance(node, YamlList) and isinstance(last, int)
        return node.value_at(last)

    def __iter__(self) -> Iterator[JsonPath]:
        raise TypeError("positions are looked up by path, not listed")

    def __len__(self) -> int:
        raise TypeError("positions are looked up by path, not counted")


@dataclass
class ParsedDocument:
    """One YAML document: its value and the 1-based (line, col) of every node and key."""

    index: int
    value: YamlValue
    root_at: LineCol = (1, 1)

    @property
    def values(self) -> Positions:
        return Positions(self.value, self.root_at, keys=False)

    @property
    def keys(self) -> Positions:
        return Positions(self.value, self.root_at, keys=True)


def format_path(path: JsonPath) -> str:
    """``("spec", "resellers", 0, "balance")`` -> ``spec.resellers[0].balance``."""
    out = ""
    for key in path:
        if isinstance(key, str) and key.startswith("\0"):
            continue  # the value of a refused key: no addressable path
        if isinstance(key, int):
            out += f"[{key}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            out += f".{key}" if out else key
        else:
            out += f'["{key}"]'
    return out


#: Where the document, its ``spec`` and a streamed list start, and where the keys of the last
#: two do, by path: what a streaming parse knows of the nodes above the list's items.
Above = tuple[Mapping[JsonPath, LineCol], Mapping[JsonPath, LineCol]]


class ItemTaker(Protocol):
    """Takes the items of one streamed list, in order."""

    def take(self, item: YamlValue, at: LineCol) -> None:
        """The next item, and where it starts."""

    def close(self) -> None:
        """The list ended."""


class ItemSink(Protocol):
    """What a streaming parse hands the items of long lists to (see the module docstring)."""

    def open(
        self, file: str, index: int, kind: str, path: JsonPath, above: Above
    ) -> ItemTaker | None:
        """List ``path`` (``("spec", key)``) of document ``index`` (of ``kind``) starts: what
        takes its items one at a time, or ``None`` to keep it whole."""


class StreamInterrupted(Exception):
    """A file ended inside a document whose list items were already handed to the sink."""
