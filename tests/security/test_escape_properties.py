"""Properties of the escapers (reconciler/render/escape.py) for any text, checked against how
the consumers behave: the Actions runner, a CommonMark/GFM parser, a terminal, YAML loaders."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from decimal import Decimal

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.errors import SourcePosition
from reconciler.kinds import registry
from reconciler.manifests.yamlstrict import Limits, parse_yaml
from reconciler.plan.model import Call, Change, GuardResult, MoneyImpact, Notice, Plan, make_plan
from reconciler.render import escape
from reconciler.render.formats import render_github, render_text
from reconciler.render.markdown import render_markdown

from .hostile import (
    MD,
    SAMPLES,
    assert_ci_safe,
    assert_markdown_safe,
    assert_terminal_safe,
    hostile_names,
    markdown_problems,
    runner_commands,
    walk,
)

FAST = settings(max_examples=300, derandomize=True, database=None, deadline=None)
#: Any text, surrogates and every other category included.
ANY_TEXT = st.one_of(hostile_names(), st.text(st.characters(codec=None)))
SGR = re.compile(r"\x1b\[[0-9;]*m")


@FAST
@given(ANY_TEXT)
@example("\ud800 lone surrogate")
def test_a_field_is_one_inert_line(text: str) -> None:
    shown = escape.terminal_field(text)
    assert_terminal_safe(shown)
    assert "\n" not in shown and "\t" not in shown
    assert runner_commands(shown) == []
    assert escape.terminal_field(shown) == shown, "idempotent"
    shown.encode("utf-8")  # printable: no lone surrogate reaches a stream


@FAST
@given(ANY_TEXT)
def test_a_block_keeps_its_lines_and_nothing_else(text: str) -> None:
    shown = escape.terminal(text)
    assert_terminal_safe(shown)
    assert runner_commands(shown) == []
    assert escape.terminal(shown) == shown
    assert shown.count("\n") == text.count("\n")


def test_the_unsafe_table_covers_every_control_format_and_separator_character() -> None:
    """The hard-coded ranges hold every Cc, Cf, Cs, Zl and Zp code point of this Python's
    Unicode database (a newer Unicode may add format characters: this test says so)."""
    missing = [
        f"U+{c:04X}"
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        and escape.terminal_field(chr(c)) == chr(c)
    ]
    assert missing == []


@FAST
@given(ANY_TEXT)
def test_plain_text_is_left_alone(text: str) -> None:
    """A reviewer recognises a name: outside the unsafe table nothing changes."""
    unsafe = escape._UNSAFE_RANGES
    plain = "".join(
        c
        for c in text
        if unicodedata.category(c)[0] in "LNPSZ"
        and c.isprintable()
        and not any(lo <= ord(c) <= hi for lo, hi in unsafe)
    )
    plain = plain.replace("##[", "").replace("::", "").replace("\\", "")
    if plain.strip() == plain and not plain.startswith(":"):
        assert escape.terminal_field(plain) == plain


@FAST
@given(st.text(st.characters(codec=None, exclude_categories=["Cs"])))
@example("\x9b31m\x85\u2028\ufeff\x7f\t\r\n\\\"'")
def test_yaml_quoted_reads_back_exactly(text: str) -> None:
    document = f"key: {escape.yaml_quoted(text)}\n"
    assert_terminal_safe(document.rstrip("\n"))
    assert yaml.load(document, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == {
        "key": text
    }
    assert yaml.safe_load(document) == {"key": text}
    parsed = parse_yaml(document, "x.yaml", Limits())
    assert not parsed.problems
    assert [d.value for d in parsed.documents] == [{"key": text}]


@FAST
@given(ANY_TEXT)
def test_yaml_comment_is_one_printable_line(text: str) -> None:
    comment = escape.yaml_comment(text)
    assert "\n" not in comment and "\r" not in comment
    assert_terminal_safe(comment)
    assert yaml.safe_load(f"a: 1  # {comment}\n") == {"a": 1}


@FAST
@given(ANY_TEXT)
def test_markdown_values_and_text_render_inert_in_a_table_and_a_paragraph(text: str) -> None:
    for shown in (escape.markdown_value(text), escape.markdown_text(text)):
        table = f"| a | b |\n|---|---|\n| x | {escape.markdown_cell(shown)} |\n"
        assert markdown_problems(table) == []
        cells = [t for t in walk(MD.parse(table)) if t.type == "td_open"]
        assert len(cells) == 2, "a value cannot add or remove a cell"
        for paragraph in (f"before {shown} after\n", f"**{shown}**\n", f"## {shown}\n"):
            assert markdown_problems(paragraph) == []


@FAST
@given(ANY_TEXT)
def test_a_code_span_shows_the_value(text: str) -> None:
    code = escape.markdown_code(text)
    spans = [t.content for t in walk(MD.parse(f"x {code} y")) if t.type == "code_inline"]
    shown = escape.terminal_field(text)
    assert spans == ([shown] if shown else [])


@FAST
@given(ANY_TEXT)
def test_a_fence_holds_any_content(text: str) -> None:
    markdown = "\n".join(["<details><summary>Full plan</summary>", "",
                          *escape.markdown_fence(text, "diff"), "", "</details>", ""])  # fmt: skip
    assert_markdown_safe(markdown, details=1)
    fences = [t for t in walk(MD.parse(markdown)) if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content == escape.terminal(text) + "\n"


@FAST
@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_an_annotation_is_one_command_with_our_properties(
    message: str, file: str, title: str
) -> None:
    line = escape.annotation("warning", message, file=file, line=3, col=4, title=title)
    assert "\n" not in line and "\r" not in line
    assert_terminal_safe(line)
    ((name, props),) = runner_commands(line)
    assert name == "warning"
    assert set(props) == {"file", "line", "col", "title"}
    assert (props["line"], props["col"]) == ("3", "4")


@FAST
@given(st.recursive(st.none() | st.booleans() | ANY_TEXT, lambda c: st.lists(c, max_size=3)
                    | st.dictionaries(ANY_TEXT, c, max_size=3), max_leaves=8))  # fmt: skip
def test_the_json_boundary_keeps_the_value(value: object) -> None:
    text = escape.for_output(json.dumps(value, indent=2), "json")
    assert "##[" not in text
    assert json.loads(text) == value


# -- the renderers on synthetic plans with hostile values ----------------------------------


def hostile_plan(names: list[str]) -> Plan:
    src = SourcePosition("manifests/a.yaml", 3, 5)
    quota = Change(
        kind="reseller-quota", key=f"reseller-quota/P/{names[0]}", action="issue",
        subject=f"{names[1]} ({names[0]}) from P", before={"balance": "0.00"},
        after={"balance": "100.00"},
        calls=(Call("update_coupon_quotas", "POST", "/v2/x", {"quota_amount": "100.00"}),),
        source=src, fingerprint="sha256:" + "0" * 64,
        money=MoneyImpact(issue=Decimal("100.00"), currency=names[2]), notes=(names[3],),
    )  # fmt: skip
    manual = Change(
        kind="account-manager", key=f"account-manager/{names[0]}", action="manual",
        subject=names[4], before={"account_manager": names[5]}, after={"account_manager": "x"},
        calls=(), source=src, fingerprint="sha256:" + "1" * 64, manual=True,
        notes=(f"select {names[5]} and confirm", "Run `reconciler plan` again"),
    )  # fmt: skip
    notice = Notice("auto-renew", f"auto-renew/{names[0]}", "not-applicable", names[6],
                    f"customer {names[6]!r}: {names[7]}", src)  # fmt: skip
    guard = GuardResult("max-issue-per-reseller", "100.00", "1.00", False, detail=names[0])
    return make_plan(
        order=registry.ORDER,
        changes=[quota, manual], notices=[notice], guards=[guard],
        in_scope={"reseller-quota": 1, "account-manager": 1}, manifest_checksum="sha256:x",
        endpoint=names[8], partner_id=names[9], tool_version="0",
        created_at="2026-01-01T00:00:00Z", expires_at="2026-01-01T01:00:00Z",
    )  # fmt: skip


NAMES = st.lists(hostile_names(), min_size=10, max_size=10)
_ALL = list(SAMPLES.values())


def _sample_slots(offset: int) -> list[str]:
    return [_ALL[(offset + n) % len(_ALL)] for n in range(10)]


BENIGN = hostile_plan([f"n{i}" for i in range(10)])


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(st.one_of(st.sampled_from(range(0, len(_ALL), 10)).map(_sample_slots), NAMES))
def test_renderers_on_hostile_plans(names: list[str]) -> None:
    plan = hostile_plan(names)
    text = render_text(plan)
    assert_terminal_safe(text)
    assert_ci_safe(text, "manifests/")
    assert text.count("\n") == render_text(BENIGN).count("\n")
    coloured = escape.for_output(render_text(plan, colour=True), "text", colour=True)
    assert "\x1b" not in SGR.sub("", coloured)
    assert len(SGR.findall(coloured)) == len(SGR.findall(render_text(BENIGN, colour=True)))
    markdown = render_markdown(plan)
    assert_markdown_safe(markdown, details=1)
    assert markdown.count("\n") == render_markdown(BENIGN).count("\n")
    github = render_github(plan)
    assert_terminal_safe(github)
    assert_ci_safe(github, "manifests/", annotations=True)
    assert github.count("\n") == render_github(BENIGN).count("\n")
