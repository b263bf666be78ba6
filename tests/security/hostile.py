"""Hostile names, and what a safe output looks like in each medium.

The names are what a customer, a reseller or anyone who can name a resource could choose: CI
runner commands, HTML, mentions, references, links, images, Markdown fences, comment markers,
terminal control sequences, bidi and invisible characters, very long names and lookalikes. The
checks are written from how the consumers behave (the GitHub Actions runner, a CommonMark/GFM
parser with GitHub's mention and reference rules, a terminal), not from our escaper, so a gap in
the escaper's tables shows up here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

#: One representative of each class the issue lists, and a few more.
SAMPLES: dict[str, str] = {
    "runner-error": "::error file=README.md,line=1::pwned",
    "runner-add-mask": "::add-mask::mask-this",
    "runner-stop-commands": "::stop-commands::token",
    "runner-after-newline": "ok\n::warning file=manifests/a.yaml,line=1::x",
    "runner-after-cr": "ok\r::notice::x",
    "runner-after-blanks": "x\n \u3000::error::y",
    "file-line-col": "manifests/a.yaml:1:1: forged problem",
    "legacy-error": "a ##[error]pwned",
    "legacy-stop": "##[stop-commands]token",
    "html-img": "<img src=x onerror=alert(1)>",
    "html-script": "<script>alert(1)</script>",
    "html-link": '<a href="https://evil.example">click</a>',
    "html-heading": "<h1>big</h1>",
    "mention": "@octocat",
    "team-mention": "hi @org/team",
    "issue-ref": "#123",
    "cross-ref": "owner/repo#7 GH-12",
    "md-link": "[click](https://evil.example)",
    "md-image": "![x](https://evil.example/p.png)",
    "autolink": "<https://evil.example>",
    "bare-url": "https://evil.example/x www.evil.example",
    "email": "mail@evil.example",
    "entity-mention": "&#64;octocat &lt;b&gt;",
    "fence": "x\n```\n</details>\n<img src=x>",
    "fence-long": "````` a ``` b `",
    "tilde-fence": "~~~\nx",
    "details-close": "</details><h1>top</h1>",
    "comment-open": "x\n<!--",
    "table-pipe": "a | b | c",
    "emphasis": "*bold* _it_ ~~del~~ $x$",
    "osc52": "\x1b]52;c;ZXZpbA==\x07",
    "osc8": "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "csi-clear": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b31mred",
    "backspace": "abc\x08\x08\x08xyz",
    "nul": "a\x00b",
    "cr": "visible\rhidden",
    "nel-ls-ps": "a\x85b\u2028c\u2029d",
    "bidi": "\u202eevil\u202c \u2066x\u2069",
    "zero-width": "a\u200bb\u200dc\ufeffd\u2060e",
    "tags": "x\U000e0041\U000e0042",
    "variation-selectors": "y\ufe0f\U000e0100",
    "hangul-filler": "\u3164\u115f",
    "very-long": "L" * 3000,
    "lookalike": "t\u0456anfu-\u0441loud",  # Cyrillic i and es: looks like tianfu-cloud
    "percent": "50%25%0A%0D",
    "quotes": 'it\'s "quoted" \\ back',
    "yaml-ish": "- [a, b]: {c: d} # e & *f !g",
    "cjk": "杭州客户",
}

#: Fragments that names are built from, besides the samples.
_FRAGMENTS = [
    "::",
    "##[",
    "\n",
    "\r",
    "`",
    "```",
    "<",
    ">",
    "@",
    "#",
    "[",
    "](",
    "!",
    "|",
    "\\",
    "\x1b",
    "\x9b",
    "\u202e",
    "\u200b",
    " ",
    "%",
    "&",
    "*",
    "_",
    "$",
    "error",
    "add-mask",
    "details",
    "<!--",
    "www.",
    "https://",
]


def hostile_names() -> st.SearchStrategy[str]:
    """Samples, combinations of hostile fragments, and arbitrary text with every category."""
    pieces = st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.sampled_from(list(SAMPLES.values())),
        st.text(st.characters(codec=None, exclude_categories=["Cs"]), min_size=1, max_size=8),
    )
    return st.one_of(
        st.sampled_from(list(SAMPLES.values())),
        st.lists(pieces, min_size=1, max_size=6).map("".join),
    ).filter(lambda s: s.strip() != "")


# -- what a runner acts on -------------------------------------------------------------------

#: .NET ``TrimStart()`` trims what ``char.IsWhiteSpace`` says; Python's str.isspace is a superset.
RUNNER_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
OUR_COMMANDS = {"error", "warning", "notice"}
OUR_PROPERTIES = {"file", "line", "col", "title"}


def runner_commands(output: str) -> list[tuple[str, dict[str, str]]]:
    """The workflow commands the GitHub Actions runner would find in ``output``: (name, props).

    Lines are split the way the runner reads them (CR, LF, CRLF); a line is a command when,
    after leading whitespace, it starts with ``::`` and has a second ``::``; legacy commands are
    ``##[`` anywhere, reported with the name ``##[``.
    """
    found: list[tuple[str, dict[str, str]]] = []
    for line in RUNNER_LINE_BREAKS.split(output):
        if "##[" in line:
            found.append(("##[", {}))
        text = line.lstrip()
        if not text.startswith("::"):
            continue
        end = text.find("::", 2)
        if end < 0:
            continue
        info = text[2:end]
        name, _, props = info.partition(" ")
        pairs = dict(p.split("=", 1) for p in props.split(",") if "=" in p)
        found.append((name, pairs))
    return found


def assert_ci_safe(output: str, manifests: str, *, annotations: bool = False) -> None:
    """No command a runner would act on, except our annotations on manifest files."""
    for name, props in runner_commands(output):
        assert annotations, f"a runner command in plain output: {name} {props}"
        assert name in OUR_COMMANDS, f"runner command {name!r} {props}"
        assert set(props) <= OUR_PROPERTIES, props
        if "file" in props:
            assert props["file"].startswith(manifests) and props["file"].endswith(".yaml"), props
    assert "\r" not in output


# -- what a terminal acts on -----------------------------------------------------------------

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe_characters(output: str, *, keep: str = "\n\t") -> set[str]:
    """Control, format (bidi, zero-width), surrogate and separator characters in ``output``."""
    return {
        c for c in set(output) if c not in keep and unicodedata.category(c) in _UNSAFE_CATEGORIES
    }


def assert_terminal_safe(output: str) -> None:
    bad = unsafe_characters(output)
    assert not bad, f"raw control or invisible characters: {sorted(map(ascii, bad))}"


# -- what GitHub renders ---------------------------------------------------------------------

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_MENTION = re.compile(r"(?<![\w`])@[A-Za-z0-9]")
_REFERENCE = re.compile(r"#\d|\bgh-\d", re.IGNORECASE)
_URL = re.compile(r"://|\bwww\.", re.IGNORECASE)
#: The only HTML our Markdown writes.
OUR_HTML = re.compile(
    r"<!-- partner-reconciler:(plan|drift) -->\n?|<details><summary>[A-Za-z ]+</summary>\n?"
    r"|</details>\n?|</?sub>"
)


def walk(tokens: Iterable[Token]) -> Iterable[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def markdown_problems(markdown: str) -> list[str]:
    """What in ``markdown`` would render as HTML, a link, an image, a mention or a reference,
    or carries a control character. Code (spans and fences) is literal on GitHub."""
    problems = []
    bad = unsafe_characters(markdown)
    if bad:
        problems.append(f"raw control characters {sorted(map(ascii, bad))}")
    for token in walk(MD.parse(markdown)):
        if token.type in ("html_block", "html_inline") and not OUR_HTML.fullmatch(token.content):
            problems.append(f"raw HTML {token.content!r}")
        elif token.type in ("link_open", "image"):
            problems.append(f"a {token.type} {token.attrs}")
        elif token.type == "text":
            for pattern, what in ((_MENTION, "mention"), (_REFERENCE, "reference"),
                                  (_URL, "URL")):  # fmt: skip
                if pattern.search(token.content):
                    problems.append(f"a {what} in text {token.content!r}")
    return problems


def assert_markdown_safe(markdown: str, *, details: int = 0) -> None:
    problems = markdown_problems(markdown)
    assert not problems, problems
    html = [t.content for t in walk(MD.parse(markdown)) if t.type == "html_block"]
    closing = sum(1 for h in html if h.startswith("</details>"))
    assert closing == details, f"{closing} </details> blocks, expected {details}"
