"""Strict YAML: PyYAML's event stream turned into plain values, with a position for every node.

We read events, not PyYAML's constructed objects, because the constructor applies YAML 1.1
typing (``no`` -> ``False``, ``0123`` -> 83), keeps the last of two duplicate keys and expands
aliases. Here:

* plain scalars follow the JSON subset of YAML 1.2's core schema: ``true``/``false`` are booleans,
  ``null``/``~``/empty are ``None``, ``-?(0|[1-9][0-9]*)`` is an integer, a plain decimal
  fraction such as ``12.5`` becomes a :class:`PlainNumber` (never valid in a manifest: money is
  a quoted string), and everything else is a string. Quoted and block scalars are strings;
* the only explicit tag allowed is ``!!str``; anchors and aliases are refused (no billion
  laughs), duplicate keys and keys that are not strings are refused;
* every node's start is recorded, and every mapping key's start: mappings and lists are
  :class:`~reconciler.manifests.yamlnodes.YamlMap` and ``YamlList`` (a ``dict`` and a ``list``)
  that keep the positions of their children packed in bytes (8 per position), and
  ``ParsedDocument.values`` / ``.keys`` look positions up by JSON path (a tuple of keys and
  indices); the node types are :mod:`reconciler.manifests.yamlnodes`. Strings are shared: a value
  written many times (a manager, or a customer ID in two files) is one object
  (``strings``). A manifest of 100,000 customers parses into about 300 bytes a customer;
* size caps (nesting depth, documents per file, nodes per file) stop the file at the first hit.

Strictness problems are collected and parsing goes on; a YAML syntax error or a cap ends the
file (``ParseResult.failed``).

Streaming: given an :class:`ItemSink`, each item of a list ``spec.<key>`` of a document whose
``kind`` came before its ``spec`` is handed to the sink as soon as it is parsed, when the sink
asks for that list (:meth:`ItemSink.open`), and is kept nowhere: the document then holds that
list empty. A file that ends inside such a document (a syntax error, a cap) raises
:class:`StreamInterrupted`, since its items were handed out but the document is not whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from reconciler.errors import ManifestProblem, SourcePosition
from reconciler.manifests.yamlerrors import Source, decoded, reader_problem, syntax_problem
from reconciler.manifests.yamlnodes import (
    Above,
    ItemSink,
    ItemTaker,
    JsonPath,
    LineCol,
    ParsedDocument,
    PathKey,
    PlainNumber,
    StreamInterrupted,
    YamlList,
    YamlMap,
    YamlValue,
    format_path,
    pack,
    pack_all,
    unpack,
)

__all__ = [
    "Above",
    "ItemSink",
    "ItemTaker",
    "JsonPath",
    "Limits",
    "LineCol",
    "ParseResult",
    "ParsedDocument",
    "PathKey",
    "PlainNumber",
    "Source",
    "StreamInterrupted",
    "YamlList",
    "YamlMap",
    "YamlValue",
    "format_path",
    "parse_yaml",
    "resolve_plain",
]

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,63})\Z")
_FLOAT = re.compile(
    r"[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)\Z"
)
_KEYWORDS: dict[str, bool | None] = {
    "true": True,
    "false": False,
    "null": None,
    "~": None,
    "": None,
}
_SPECIAL_START = frozenset("0123456789-+.tfn~") | {""}


class _Mark(Protocol):
    line: int
    column: int


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile or runaway file from exhausting time or memory."""

    max_file_bytes: int = 16 * 1024 * 1024
    max_depth: int = 32
    max_documents: int = 500
    max_nodes: int = 1_000_000
    max_problems: int = 100


@dataclass
class ParseResult:
    documents: list[ParsedDocument]
    problems: list[ManifestProblem]
    failed: bool


def resolve_plain(text: str) -> YamlValue:
    """The value of a plain (unquoted, untagged) scalar."""
    if text[:1] not in _SPECIAL_START:
        return text
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    if _INT.match(text):
        return int(text)
    return PlainNumber(text) if _FLOAT.match(text) else text


def parse_yaml(
    text: str | bytes | Source,
    file: str,
    limits: Limits,
    strings: dict[str, str] | None = None,
    *,
    on_document: Callable[[ParsedDocument], None] | None = None,
    sink: ItemSink | None = None,
) -> ParseResult:
    """Parse every document of ``text`` (``bytes`` or a :class:`Source`: UTF-8 without a byte
    order mark, which libyaml reads without a copy); never raises for bad input (but
    :class:`StreamInterrupted`, with a ``sink``). ``strings`` shares equal strings between the
    files of one load (pass the same dict to every call). ``on_document`` is given each
    document as soon as it is read, instead of the result keeping it."""
    builder = _Builder(file, limits, {} if strings is None else strings, on_document, sink)
    if not isinstance(text, str) and _LOADER is yaml.SafeLoader:  # no libyaml: parse the text
        text = decoded(text)
    try:
        stream: Any = text  # a Source is a SupportsRead[bytes] (the stubs' Protocol is private)
        builder.run(yaml.parse(stream, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        builder.failed = True
        builder.problems.append(syntax_problem(file, exc, text))
    except yaml.YAMLError as exc:
        builder.failed = True
        builder.problems.append(
            reader_problem(file, exc, text, libyaml=_LOADER is not yaml.SafeLoader)
        )
    except _Abort:
        builder.failed = True
    if builder.streaming:
        raise StreamInterrupted(file)
    return ParseResult(builder.documents, builder.problems, builder.failed)


class _Abort(Exception):
    """Stop reading this file: a cap was hit. The problem is already recorded."""


class _Builder:
    def __init__(
        self,
        file: str,
        limits: Limits,
        strings: dict[str, str],
        on_document: Callable[[ParsedDocument], None] | None = None,
        sink: ItemSink | None = None,
    ) -> None:
        self.file = file
        self.limits = limits
        self.documents: list[ParsedDocument] = []
        self.problems: list[ManifestProblem] = []
        self.failed = False
        self._nodes = 0
        self._strings = strings
        self._read = 0  # documents read
        self._on_document = on_document
        self._sink = sink
        self.streaming = False  # inside a document some list items of which were handed out
        self._root: YamlMap | None = None  # the current document's, when a mapping
        self._above: tuple[dict[JsonPath, LineCol], dict[JsonPath, LineCol]] = ({}, {})

    def _share(self, value: str) -> str:
        return self._strings.setdefault(value, value)

    def run(self, events: Iterator[yaml.Event]) -> None:
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                self._document(event, events)

    def _document(self, start: yaml.DocumentStartEvent, events: Iterator[yaml.Event]) -> None:
        if self._read >= self.limits.max_documents:
            limit = self.limits.max_documents
            msg = f"more than {limit} documents in one file (the limit); split it into files"
            self._abort(start.start_mark, (), msg)
        event = next(events)
        root_at = _linecol(event.start_mark)
        self._root = None
        self._above = ({(): root_at}, {})
        value = self._node(event, events, (), 1)
        next(events)  # DocumentEndEvent
        self._read += 1
        self.streaming = False
        parsed = ParsedDocument(self._read - 1, value, root_at)
        if self._on_document is None:
            self.documents.append(parsed)
        else:
            self._on_document(parsed)

    def _node(
        self, event: yaml.Event, events: Iterator[yaml.Event], path: JsonPath, depth: int
    ) -> YamlValue:
        self._count(event, path, depth)
        if isinstance(event, yaml.ScalarEvent):  # the hot path: most nodes are scalars
            if event.tag is None:
                if event.anchor is not None:
                    self._check_node(event, path)
                value = resolve_plain(event.value) if event.implicit[0] else event.value
            else:
                self._check_node(event, path)
                value = event.value  # !!str, or a refused tag (reported)
            return self._share(value) if type(value) is str else value
        if isinstance(event, yaml.AliasEvent):
            self._refuse_anchor(event, path, f"*{event.anchor}")
            return None
        self._check_node(event, path)
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(events, path, depth)
        return self._sequence(events, path, depth)

    def _mapping(self, events: Iterator[yaml.Event], path: JsonPath, depth: int) -> YamlValue:
        result = YamlMap()
        at: list[int] = []
        if not path:
            self._root = result
        while not isinstance(event := next(events), yaml.MappingEndEvent):
            key = self._key(event, events, path, depth)
            value_event = next(events)
            if key is None or key in result:
                if key is not None:
                    first = unpack(pack_all(at), 2 * list(result).index(key))
                    self._duplicate(event, path, key, first[0])
                # Read the value for its own problems, and keep it nowhere.
                hidden = (*path, f"\0{_linecol(event.start_mark)}")
                self._node(value_event, events, hidden, depth + 1)
                continue
            at += (pack(_linecol(event.start_mark)), pack(_linecol(value_event.start_mark)))
            if len(path) < 2 and self._sink is not None:
                child = (*path, key)
                self._above[0][child] = _linecol(value_event.start_mark)
                self._above[1][child] = _linecol(event.start_mark)
            result[key] = self._node(value_event, events, (*path, key), depth + 1)
        result.place(at)
        return result

    def _sequence(self, events: Iterator[yaml.Event], path: JsonPath, depth: int) -> YamlValue:
        take = self._streamed(path)
        if take is not None:
            return self._stream(take, events, path, depth)
        items = YamlList()
        at: list[int] = []
        while not isinstance(event := next(events), yaml.SequenceEndEvent):
            at.append(pack(_linecol(event.start_mark)))
            items.append(self._node(event, events, (*path, len(items)), depth + 1))
        items.place(at)
        return items

    def _streamed(self, path: JsonPath) -> ItemTaker | None:
        """How to take the items of list ``path`` one at a time, if the sink streams it."""
        if self._sink is None or len(path) != 2 or path[0] != "spec" or self._root is None:
            return None
        kind = self._root.get("kind")
        if not isinstance(kind, str):
            return None
        return self._sink.open(self.file, self._read, kind, path, self._above)

    def _stream(
        self, taker: ItemTaker, events: Iterator[yaml.Event], path: JsonPath, depth: int
    ) -> YamlValue:
        self.streaming = True
        index = 0
        while not isinstance(event := next(events), yaml.SequenceEndEvent):
            at = _linecol(event.start_mark)
            taker.take(self._node(event, events, (*path, index), depth + 1), at)
            index += 1
        taker.close()
        return YamlList()  # its items went to the sink

    def _key(
        self, event: yaml.Event, events: Iterator[yaml.Event], path: JsonPath, depth: int
    ) -> str | None:
        if not isinstance(event, yaml.ScalarEvent):
            what = "an alias" if isinstance(event, yaml.AliasEvent) else "a mapping or list"
            self._problem(event.start_mark, path, f"a key must be a string, not {what}")
            hidden = (*path, f"\0key{_linecol(event.start_mark)}")
            self._node(event, events, hidden, depth + 1)
            return None
        self._count(event, path, depth)
        self._check_node(event, path)
        key = self._scalar(event, path)
        if isinstance(key, str):
            return self._share(key)
        if key is None:
            self._problem(event.start_mark, path, "a key must not be empty")
        else:
            msg = f'key {event.value} must be a string (quote it: "{event.value}")'
            self._problem(event.start_mark, path, msg)
        return None

    def _scalar(self, event: yaml.ScalarEvent, path: JsonPath) -> YamlValue:
        if event.tag is None and event.implicit[0]:
            return resolve_plain(event.value)
        return event.value  # quoted, block, or !!str (other tags were reported)

    def _check_node(self, event: yaml.Event, path: JsonPath) -> None:
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._refuse_anchor(event, path, f"&{anchor}")
        tag = getattr(event, "tag", None)
        if tag is not None and not (isinstance(event, yaml.ScalarEvent) and tag == _STR_TAG):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            msg = f"tag {shown} is not allowed (only !!str is); remove it, or quote the value"
            self._problem(event.start_mark, path, msg)

    def _refuse_anchor(self, event: yaml.Event, path: JsonPath, shown: str) -> None:
        msg = f"anchors and aliases are not allowed ({shown}); write the value out in full"
        self._problem(event.start_mark, path, msg)

    def _duplicate(self, event: yaml.Event, path: JsonPath, key: str, first_line: int) -> None:
        child = (*path, key)
        msg = f"duplicate key '{key}' (first defined at line {first_line}); keep only one"
        self._problem(event.start_mark, child, msg)

    def _count(self, event: yaml.Event, path: JsonPath, depth: int) -> None:
        self._nodes += 1
        if self._nodes <= self.limits.max_nodes and depth <= self.limits.max_depth:
            return
        if depth > self.limits.max_depth:
            msg = f"nested more than {self.limits.max_depth} levels deep (the limit)"
        else:
            limit = self.limits.max_nodes
            msg = f"more than {limit} YAML nodes in one file (the limit); split it into files"
        self._abort(event.start_mark, path, msg)

    def _problem(self, mark: _Mark | None, path: JsonPath, message: str) -> None:
        if len(self.problems) >= self.limits.max_problems:
            msg = f"more than {self.limits.max_problems} problems; stopped reading this file"
            self.problems.append(ManifestProblem(self._position(mark), format_path(path), msg))
            raise _Abort
        self.problems.append(ManifestProblem(self._position(mark), format_path(path), message))

    def _abort(self, mark: _Mark | None, path: JsonPath, message: str) -> None:
        self._problem(mark, path, message)
        raise _Abort

    def _position(self, mark: _Mark | None) -> SourcePosition:
        line, col = _linecol(mark)
        return SourcePosition(self.file, line, col)


def _linecol(mark: _Mark | None) -> LineCol:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
