"""One escaping layer per output medium, for text that comes from third parties.

Customer, reseller, resource and manager names, labels and e-mail addresses are chosen by people
outside the partner's control, and so are API error messages. This module turns such a value into
text that is inert in the medium it is written to, while a reviewer still recognises it:

========================  ==========================================================================
``terminal(text)``        a whole block for a terminal or a CI log: every control character, C1
                          code, bidirectional control, zero-width or other invisible character is
                          shown as ``\\x1b`` / ``\\u202e`` (newline and tab stay); ``##[`` anywhere
                          and ``::`` at the start of a line (what a CI runner acts on) are broken
``terminal_field(v)``     one value on one line: the same, and newline, tab and CR shown as ``\\n``,
                          ``\\t``, ``\\r``
``annotation(...)``       a GitHub Actions workflow command (``--format github``) whose properties
                          and message are escaped for the runner after :func:`terminal_field`
``markdown_value(v)``     a value in GitHub Markdown: plain words as they are, anything else as an
                          inline code span (no HTML, mention, reference, link or image can render)
``markdown_text(v)``      prose quoting such values: risky words as code spans, the rest with its
                          punctuation backslash-escaped
``markdown_fence(...)``   a fenced code block whose fence is longer than any backtick run inside
``yaml_quoted(v)``        a YAML double-quoted scalar that reads back as exactly ``v``
``yaml_comment(v)``       text for a YAML comment (one line, printable)
``for_output(text, m)``   the last pass over a whole output in medium ``m`` (text, markdown, json,
                          github); it cannot make output unsafe and catches what a renderer forgot
========================  ==========================================================================

Every function is pure; :func:`terminal` and :func:`terminal_field` are plain ``str -> str``
functions and idempotent (escaping twice gives what escaping once gives), so a value escaped
where it is interpolated and again at the output boundary is not mangled. The module imports
nothing from the rest of the package: anything that prints (the CLI, the emulator's CLI, export,
a future table library) may call it.
"""

from __future__ import annotations

import re

#: Code points never shown raw: control characters (C0, DEL, C1), format characters (bidi
#: controls, zero-width characters, the BOM, tag characters), surrogates, line and paragraph
#: separators, every other default-ignorable (invisible) code point, and noncharacters.
_UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x034F, 0x034F),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x206F),
    (0x3164, 0x3164), (0xD800, 0xDFFF), (0xFDD0, 0xFDEF), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB), (0xFFFE, 0xFFFF),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1345F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    *((plane + 0xFFFE, plane + 0xFFFF) for plane in range(0x10000, 0x110000, 0x10000)),
)  # fmt: skip


def _char_class(ranges: tuple[tuple[int, int], ...], keep: str = "") -> re.Pattern[str]:
    parts = []
    for low, high in ranges:
        for lo, hi in _split(low, high, {ord(c) for c in keep}):
            parts.append(re.escape(chr(lo)) + ("-" + re.escape(chr(hi)) if hi > lo else ""))
    return re.compile("[" + "".join(parts) + "]")


def _split(low: int, high: int, holes: set[int]) -> list[tuple[int, int]]:
    out, start = [], low
    for hole in sorted(h for h in holes if low <= h <= high):
        if hole > start:
            out.append((start, hole - 1))
        start = hole + 1
    if start <= high:
        out.append((start, high))
    return out


_UNSAFE_FIELD = _char_class(_UNSAFE_RANGES)
_UNSAFE_BLOCK = _char_class(_UNSAFE_RANGES, keep="\n\t")
#: What a colour terminal needs from us, and nothing else: SGR (colours) only.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: The legacy runner command prefix, honoured anywhere in a line.
LEGACY_COMMAND = "##["
_LEGACY_BROKEN = "#\\x23["
#: A line whose first non-blank characters are ``::`` is a workflow command.
_COMMAND_LINE = re.compile(r"^(\s*):", re.MULTILINE)


def visible(char: str) -> str:
    """``'\\x1b'`` -> ``\\x1b``: a character spelled out the way Python would write it."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _spell(match: re.Match[str]) -> str:
    return visible(match.group())


def _ci_safe(text: str) -> str:
    """Break what a CI runner would act on: ``##[`` anywhere, ``::`` at a line start."""
    if LEGACY_COMMAND in text:
        text = text.replace(LEGACY_COMMAND, _LEGACY_BROKEN)
    if "::" in text:
        text = _COMMAND_LINE.sub(_break_command, text)
    return text


def _break_command(match: re.Match[str]) -> str:
    line_start = match.string[match.end() :]
    if line_start.startswith(":"):  # the line starts with "::" after blanks
        return match.group(1) + "\\x3a"
    return match.group()


def terminal(text: str) -> str:
    """A whole block of text, safe on a terminal and in a CI log; newlines and tabs stay.

    The function anyone may call before text reaches a screen (a table library included).
    """
    if _UNSAFE_BLOCK.search(text):
        text = _UNSAFE_BLOCK.sub(_spell, text)
    return _ci_safe(text)


def terminal_field(value: object) -> str:
    """One value (a name, a message) on one line, safe on a terminal and in a CI log."""
    text = str(value)
    if _UNSAFE_FIELD.search(text):
        text = _UNSAFE_FIELD.sub(_spell, text)
    return _ci_safe(text)


def terminal_coloured(text: str) -> str:
    """Like :func:`terminal`, but the colour codes (SGR) a renderer added itself stay."""
    pieces = _SGR.split(text)
    codes = _SGR.findall(text)
    out = [terminal(pieces[0])]
    for code, piece in zip(codes, pieces[1:], strict=True):
        out += [code, terminal(piece)]
    return _ci_safe("".join(out))


# -- GitHub Actions workflow commands --------------------------------------------------------


def _command_data(text: str) -> str:
    return terminal_field(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str, message: str, *, file: str | None = None, line: int = 0, col: int = 0,
    title: str | None = None,
) -> str:  # fmt: skip
    """``::error file=...,line=...,col=...,title=...::message``, every part escaped.

    Control, bidi and invisible characters are spelled out, ``##[`` is broken, and ``%``, CR, LF
    (and ``:`` ``,`` in properties) are percent-encoded as the runner expects.
    """
    props = []
    if file is not None:
        props.append(f"file={_command_property(file)},line={int(line)},col={int(col)}")
    if title is not None:
        props.append(f"title={_command_property(title)}")
    head = f"{level} {','.join(props)}" if props else level
    return f"::{head}::{_command_data(message)}"


# -- GitHub Markdown -------------------------------------------------------------------------

#: Values shown as they are: no character Markdown, HTML, mentions, references or links use.
_PLAIN_MARKDOWN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,+-]*")
_BACKTICKS = re.compile(r"`+")


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in _BACKTICKS.findall(text)), default=0)


def markdown_code(value: object) -> str:
    """An inline code span that shows ``value`` literally (on one line)."""
    text = terminal_field(value)
    if not text:
        return ""
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.strip(" ") and (text[0] in "` " or text[-1] in "` ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_value(value: object) -> str:
    """A value in Markdown text or a table cell: as it is when it is a plain word or number,
    otherwise an inline code span, where GitHub renders no HTML, mention, issue reference,
    link, image or emphasis. Table cells still need ``|`` escaped (see :func:`markdown_cell`).
    """
    text = terminal_field(value)
    if _PLAIN_MARKDOWN.fullmatch(text) and not _RISKY_WORD.search(text):
        return text
    return markdown_code(text)


#: Words of prose shown as code: mentions, references, URLs and anything with a backtick.
_RISKY_WORD = re.compile(r"[@#`]|://|\bwww\.|\bgh-\d", re.IGNORECASE)
#: ASCII punctuation that can start Markdown or HTML syntax anywhere in a line: HTML and
#: autolinks (``<``), entities (``&``), links and images (``[``, ``]``), emphasis and strike
#: (``*``, ``_``, ``~``), GitHub's math (``$``) and escapes (``\``). ``|`` is left to
#: :func:`markdown_cell`; our layouts never start a line with prose.
_PUNCTUATION = re.compile(r"[<&\[\]*_~$\\]")
_BLANKS = re.compile(r"( +)")


#: A pair of backticks around text: kept as a code span (our messages quote commands so).
_CODE_PAIR = re.compile(r"`([^`]+)`")


def markdown_text(value: object) -> str:
    """Prose that may quote third-party values (a subject, a message, a note), readable as
    prose: text between a pair of backticks stays a code span, words with ``@``, ``#``, a
    backtick or a URL become code spans, and every other ASCII punctuation mark is
    backslash-escaped, so no HTML, mention, reference, link, image or emphasis renders.
    """
    out: list[str] = []
    for n, piece in enumerate(_CODE_PAIR.split(terminal_field(value))):
        if n % 2:
            _append(out, markdown_code(piece))
            continue
        for word in _BLANKS.split(piece):
            if not word.strip(" "):
                out.append(word)
            elif _RISKY_WORD.search(word):
                _append(out, markdown_code(word))
            else:
                _append(out, _PUNCTUATION.sub(r"\\\g<0>", word))
    return "".join(out)


def _append(out: list[str], piece: str) -> None:
    """Add ``piece``; a space keeps two backtick runs from merging into one."""
    if out and out[-1].endswith("`") and piece.startswith("`"):
        out.append(" ")
    out.append(piece)


def markdown_cell(text: str) -> str:
    """Text for a table cell: ``|`` escaped (GFM splits cells before code spans), one line."""
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def markdown_fence(content: str, info: str = "") -> list[str]:
    """The lines of a fenced code block that ``content`` cannot close or escape."""
    fence = "`" * max(3, _longest_backtick_run(content) + 1)
    return [f"{fence}{info}", terminal(content), fence]


# -- YAML (export) ---------------------------------------------------------------------------

#: Characters a YAML double-quoted scalar must not hold raw: what is not printable in YAML,
#: YAML 1.1 line breaks (NEL, LS, PS), and everything :func:`terminal` spells out.
_YAML_ESCAPE = re.compile(_UNSAFE_FIELD.pattern[:-1] + r'"\\\x85\u2028\u2029]')


def _yaml_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in '"\\':
        return "\\" + char
    return visible(char)


def yaml_representable(value: str) -> bool:
    """Whether a YAML file can hold ``value`` at all (lone surrogates cannot be encoded)."""
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def yaml_quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar that reads back exactly (see
    :func:`yaml_representable`), with every invisible or control character as an escape."""
    return '"' + _YAML_ESCAPE.sub(_yaml_escape, value) + '"'


def yaml_comment(text: str) -> str:
    """Text for a ``# comment``: one line, blanks collapsed, every unsafe character spelled out."""
    return terminal_field(" ".join(text.split()))


# -- the last pass over a whole output -------------------------------------------------------

MEDIA = ("text", "markdown", "json", "github")


def for_output(text: str, medium: str, *, colour: bool = False) -> str:
    """The boundary every output passes: whatever a renderer did, nothing a terminal or a CI
    runner acts on is left (colour codes stay only in coloured text).

    * ``text``: :func:`terminal` (or :func:`terminal_coloured`);
    * ``markdown``, ``github``: control and invisible characters spelled out (newlines stay),
      ``##[`` broken; lines may start with ``::`` only in ``github``, where the renderer
      produced them with :func:`annotation`;
    * ``json``: ``##[`` written as ``#\\u0023[``, the same JSON value.
    """
    if medium == "text":
        return terminal_coloured(text) if colour else terminal(text)
    if medium == "json":
        return text.replace(LEGACY_COMMAND, "#\\u0023[")
    if _UNSAFE_BLOCK.search(text):
        text = _UNSAFE_BLOCK.sub(_spell, text)
    if medium == "github":
        return text.replace(LEGACY_COMMAND, _LEGACY_BROKEN)
    return _ci_safe(text)
