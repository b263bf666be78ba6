"""Find manifest files, read them strictly, and hand out :class:`Document` objects.

Which files and documents are manifests (see ``docs/manifests.md``):

* A path on the command line may be a file or a directory. Directories are searched
  recursively for ``*.yaml`` and ``*.yml`` files, in sorted order, skipping hidden files and
  directories (names starting with ``.``).
* A document is a manifest when it is a mapping whose ``apiVersion`` starts with
  ``partner-reconciler/``, or whose ``kind`` is one of ours (a typo in ``apiVersion`` must not
  make a manifest silently disappear). A file is a manifest file when it holds at least one.
* A file found in a directory that holds no manifest (an emulator seed, a CI config) is skipped
  with a debug log. If it cannot be read as YAML at all, it is reported when its bytes mention
  ``partner-reconciler/``, and otherwise skipped with a warning.
* A file named explicitly must be a manifest file; a directory must contain at least one.
* In a manifest file every non-empty document must be a manifest.

Problems from every file are collected; :func:`load_paths` raises them as one
:class:`~reconciler.errors.ManifestError`.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reconciler.errors import ManifestError, ManifestProblem, SourcePosition
from reconciler.kinds import registry
from reconciler.manifests.document import API_GROUP, API_VERSION, SETTINGS, Document
from reconciler.manifests.yamlstrict import (
    ItemSink,
    Limits,
    ParsedDocument,
    ParseResult,
    YamlValue,
    parse_yaml,
)

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "KINDS",
    "SETTINGS",
    "Document",
    "Limits",
    "LoadResult",
    "load_documents",
    "load_paths",
]

logger = logging.getLogger(__name__)

#: The manifest kinds: every registered kind's, and Settings.
KINDS = (*sorted(k.manifest_kind for k in registry.KINDS), SETTINGS)
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadResult:
    documents: tuple[Document, ...]
    problems: tuple[ManifestProblem, ...]


def load_paths(paths: Sequence[str | Path], *, limits: Limits | None = None) -> list[Document]:
    """Every manifest document under ``paths``; raises :class:`ManifestError` on any problem."""
    result = load_documents(paths, limits=limits)
    if result.problems:
        raise ManifestError(result.problems)
    return list(result.documents)


def load_documents(
    paths: Sequence[str | Path],
    *,
    limits: Limits | None = None,
    on_document: Callable[[Document, list[ManifestProblem]], None] | None = None,
    sink: ItemSink | None = None,
) -> LoadResult:
    """Like :func:`load_paths`, but returns the problems instead of raising them.

    ``on_document(document, problems)`` is given each manifest document as soon as it is read
    (once its file is known to hold manifests), with the problems found so far; the result then
    holds none, so a load of 100,000 customers holds one document's YAML at a time, or one list
    item's with a ``sink`` (:mod:`reconciler.manifests.yamlstrict`; a file that ends inside a
    document it streams raises :class:`~reconciler.manifests.yamlstrict.StreamInterrupted`).
    The files skipped are logged at the end."""
    reader = _Reader(limits or Limits(), on_document, sink)
    if not paths:
        reader.problems.append(_file_problem(".", "no manifest files or directories given"))
    manifest_files: dict[Path, bool] = {}  # resolved path -> holds manifests (or their errors)
    for raw in paths:
        root = Path(raw)
        files = _expand(root, reader.problems)
        for path in files:
            resolved = path.resolve()
            if resolved not in manifest_files:
                manifest_files[resolved] = reader.read(path, path == root)
        if root.is_dir() and files and not any(manifest_files[f.resolve()] for f in files):
            reader.problems.append(_file_problem(str(root), _NO_MANIFESTS_DIR))
    for level, message in reader.skipped:
        logger.log(level, "%s", message)
    return LoadResult(tuple(reader.documents), tuple(sorted(reader.problems)))


class _Reader:
    """The files of one load, read one at a time (:func:`load_documents`)."""

    def __init__(
        self,
        limits: Limits,
        on_document: Callable[[Document, list[ManifestProblem]], None] | None,
        sink: ItemSink | None,
    ) -> None:
        self.limits = limits
        self.on_document = on_document
        self.sink = sink
        self.documents: list[Document] = []
        self.problems: list[ManifestProblem] = []
        self.strings: dict[str, str] = {}  # one object per distinct string, across the files
        self.skipped: list[tuple[int, str]] = []  # (log level, message)

    def read(self, path: Path, explicit: bool) -> bool:
        """Read one file; ``False`` when it was skipped as not being a manifest file."""
        name = path.as_posix()
        text, data = _read_text(path, name, self.limits, self.problems)
        if text is None:
            if data is not None and not (explicit or API_GROUP.encode() in data):
                self.skipped.append((logging.WARNING, f"{name}: skipped: {_NOT_TEXT}"))
                return False
            if data is not None:
                self.problems.append(_not_utf8(name, data))
            return True
        file = _FileDocuments(name, self._admitted, self.problems)
        try:
            with text:
                parsed = parse_yaml(
                    text, name, self.limits, self.strings, on_document=file.add, sink=self.sink
                )
        except OSError as exc:  # gone since it was checked
            self.problems.append(_file_problem(name, f"cannot read file: {exc.strerror or exc}"))
            return True
        if not file.claimed:
            ours = parsed.failed and API_GROUP in text.whole()
            return self._unclaimed(name, explicit, ours, parsed)
        self.problems.extend(parsed.problems)
        return True

    def _admitted(self, doc: Document) -> None:
        if self.on_document is None:
            self.documents.append(doc)
        else:
            self.on_document(doc, self.problems)

    def _unclaimed(self, name: str, explicit: bool, ours: bool, parsed: ParseResult) -> bool:
        """A file without manifest documents: reported when named or unreadable but ours."""
        if parsed.failed and (explicit or ours):
            self.problems.extend(parsed.problems)
            return True
        if explicit:
            self.problems.append(_file_problem(name, _NO_MANIFESTS_FILE))
            return True
        if parsed.failed:
            self.skipped.append((logging.WARNING, f"{name}: skipped: {_NOT_YAML}"))
        else:
            self.skipped.append((logging.DEBUG, f"{name}: skipped: {_NOT_OURS}"))
        return False


class _FileDocuments:
    """One file's documents as they are read: each is admitted (or reported) once the file is
    known to hold manifests, i.e. from its first document claiming to be one (the documents
    before it wait)."""

    def __init__(
        self, name: str, admitted: Callable[[Document], None], problems: list[ManifestProblem]
    ) -> None:
        self.name = name
        self.claimed = False
        self._admitted = admitted
        self._problems = problems
        self._waiting: list[ParsedDocument] = []

    def add(self, parsed: ParsedDocument) -> None:
        if not self.claimed:
            if not _claims(parsed.value):
                self._waiting.append(parsed)
                return
            self.claimed = True
            for earlier in self._waiting:
                self._admit(earlier)
            self._waiting = []
        self._admit(parsed)

    def _admit(self, parsed: ParsedDocument) -> None:
        doc = _admit(self.name, parsed, self._problems)
        if doc is not None:
            self._admitted(doc)


_NOT_TEXT = "not UTF-8 text and not a manifest"
_NOT_YAML = "not valid YAML and not a manifest"
_NOT_OURS = "no partner-reconciler documents"
_NO_MANIFESTS_DIR = (
    "no manifests in this directory: no *.yaml/*.yml document has apiVersion: partner-reconciler/v1"
)
_NO_MANIFESTS_FILE = "no manifests in this file: no document has apiVersion: partner-reconciler/v1"


def _expand(root: Path, problems: list[ManifestProblem]) -> list[Path]:
    """The files to read for one command-line path."""
    if root.is_dir():
        files = _walk(root)
        if not files:
            problems.append(_file_problem(str(root), "no *.yaml or *.yml files in this directory"))
        return files
    if root.is_file():
        return [root]
    what = "no such file or directory" if not root.exists() else "not a regular file"
    problems.append(_file_problem(str(root), what))
    return []


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        found.extend(
            Path(directory, name)
            for name in names
            if name.endswith(_SUFFIXES) and not name.startswith(".")
        )
    return sorted(found, key=lambda p: p.as_posix())


_BOM = b"\xef\xbb\xbf"
_CHUNK = 64 * 1024


class _FileText:
    """A manifest file's UTF-8 text (checked, :func:`_read_text`) that the parser reads a
    chunk at a time, so a file of 100,000 customers is never held whole; read whole only for a
    message about it. Open it with ``with``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stream: BinaryIO | None = None

    def __enter__(self) -> _FileText:
        self._stream = self._path.open("rb")
        if self._stream.read(len(_BOM)) != _BOM:
            self._stream.seek(0)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = None

    def read(self, size: int) -> bytes:
        assert self._stream is not None, "read a _FileText inside 'with'"
        return self._stream.read(size)

    def whole(self) -> str:
        return self._path.read_bytes().removeprefix(_BOM).decode("utf-8", "replace")


def _read_text(
    path: Path, name: str, limits: Limits, problems: list[ManifestProblem]
) -> tuple[_FileText | None, bytes | None]:
    """The file's text, or ``None``; also the raw bytes when they were read but are not
    UTF-8. The text is checked a chunk at a time and read again by the parser."""
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            msg = f"file is {size} bytes, over the limit of {limits.max_file_bytes}; split it"
            problems.append(_file_problem(name, msg))
            return None, None
        decoder = codecs.getincrementaldecoder("utf-8")()
        with path.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                if decoder.getstate()[0] or not chunk.isascii():
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except OSError as exc:
        problems.append(_file_problem(name, f"cannot read file: {exc.strerror or exc}"))
        return None, None
    except UnicodeDecodeError:
        return _read_bytes(path, name, problems)
    return _FileText(path), None


def _read_bytes(
    path: Path, name: str, problems: list[ManifestProblem]
) -> tuple[None, bytes | None]:
    try:
        return None, path.read_bytes()
    except OSError as exc:
        problems.append(_file_problem(name, f"cannot read file: {exc.strerror or exc}"))
        return None, None


def _not_utf8(name: str, data: bytes) -> ManifestProblem:
    body = data.removeprefix(_BOM)
    try:
        body.decode("utf-8")
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    line_start = body.rfind(b"\n", 0, start) + 1
    line = body.count(b"\n", 0, start) + 1
    col = len(body[line_start:start].decode("utf-8", "replace")) + 1
    msg = f"not UTF-8 text (byte 0x{body[start]:02x}); save the file as UTF-8"
    return ManifestProblem(SourcePosition(name, line, col), "", msg)


def _claims(value: object) -> bool:
    """Whether a document says it is ours (by apiVersion, or by one of our kinds)."""
    if not isinstance(value, Mapping):
        return False
    api = value.get("apiVersion")
    return (isinstance(api, str) and api.startswith(API_GROUP)) or value.get("kind") in KINDS


def _admit(name: str, parsed: ParsedDocument, problems: list[ManifestProblem]) -> Document | None:
    """The manifest document ``parsed`` is, or ``None`` (with its problem, if any)."""
    value = parsed.value
    if value is None:
        return None  # an empty document, e.g. after a trailing '---'
    if not isinstance(value, dict):
        line, col = parsed.values.get((), (1, 1))
        msg = (
            f"document {parsed.index + 1} is not a mapping; a manifest has "
            "apiVersion, kind, metadata and spec"
        )
        problems.append(ManifestProblem(SourcePosition(name, line, col), "", msg))
        return None
    doc = Document(
        file=name,
        index=parsed.index,
        kind=_text(value.get("kind")),
        name=_metadata_name(value),
        content=value,
        values=parsed.values,
        keys=parsed.keys,
    )
    api_problem = _api_version_problem(doc)
    if api_problem is not None:
        problems.append(api_problem)
        if not _claims(value):
            return None  # a foreign document in a manifest file: nothing more to check
    return doc


def _api_version_problem(doc: Document) -> ManifestProblem | None:
    api = doc.content.get("apiVersion")
    if api == API_VERSION:
        return None
    if "apiVersion" not in doc.content:
        if not _claims(doc.content):
            msg = (
                f"document {doc.index + 1} is not a partner-reconciler manifest (no apiVersion); "
                "a manifest file holds manifests only: move it to another file"
            )
            return doc.problem((), msg)
        return doc.problem((), f"missing apiVersion (add apiVersion: {API_VERSION})")
    shown = f"'{api}'" if isinstance(api, str) else repr(api)
    msg = f"{shown} is not a supported apiVersion (use {API_VERSION})"
    return doc.problem(("apiVersion",), msg)


def _metadata_name(value: dict[str, YamlValue]) -> str:
    metadata = value.get("metadata")
    return _text(metadata.get("name")) if isinstance(metadata, dict) else ""


def _text(value: YamlValue) -> str:
    return value if isinstance(value, str) else ""


def _file_problem(name: str, message: str) -> ManifestProblem:
    return ManifestProblem(SourcePosition(name, 1, 1), "", message)
