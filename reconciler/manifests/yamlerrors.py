"""The problem of a YAML file that cannot be parsed (:mod:`reconciler.manifests.yamlstrict`): a
syntax error, or a character YAML refuses, at its line and column.

The parser reads a file a chunk at a time (:class:`Source`); the text is read whole only for
these messages.
"""

from __future__ import annotations

from typing import Protocol

import yaml

from reconciler.errors import ManifestProblem, SourcePosition

__all__ = ["Source", "decoded", "reader_problem", "syntax_problem"]


class Source(Protocol):
    """A file's UTF-8 text (without a byte order mark) that libyaml reads a chunk at a time."""

    def read(self, size: int) -> bytes:
        """Up to ``size`` more bytes (``b""`` at the end)."""

    def whole(self) -> str:
        """All the text, for a message about it."""


def decoded(source: str | bytes | Source) -> str:
    """The text of ``source``."""
    if isinstance(source, bytes):
        return source.decode("utf-8", "replace")
    return source if isinstance(source, str) else source.whole()


def syntax_problem(
    file: str, exc: yaml.MarkedYAMLError, source: str | bytes | Source
) -> ManifestProblem:
    """A YAML syntax error where libyaml found it (naming a tab there)."""
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc.context or 'unreadable input'}"
    context = exc.context_mark
    if exc.problem and exc.context and context is not None and _at(context) != _at(mark):
        message += f" ({exc.context} at line {context.line + 1})"
    if mark is not None and "\t" in _line_of(decoded(source), mark.line)[: mark.column + 1]:
        message += "; a tab: indent with spaces"
    line, col = _at(mark)
    return ManifestProblem(SourcePosition(file, line, col), "", message)


def reader_problem(
    file: str, exc: yaml.YAMLError, source: str | bytes | Source, *, libyaml: bool
) -> ManifestProblem:
    """A character YAML refuses (a control character), at its line and column."""
    text = decoded(source)
    offset = getattr(exc, "position", 0)
    if libyaml:  # libyaml counts UTF-8 bytes
        offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
    offset = min(max(offset, 0), len(text))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    char = getattr(exc, "character", None)
    shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
    message = f"character {shown} is not allowed in YAML (control characters are refused)"
    return ManifestProblem(SourcePosition(file, line, col), "", message)


def _at(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _line_of(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line] if 0 <= line < len(lines) else ""
