"""A plan printed a block at a time is the plan printed whole, byte for byte.

The CLI does not hold a 100,000-customer plan's text: the text renderer yields lines, secrets are
masked a block at a time (:func:`reconciler.bss.redact.scrub_blocks`), each block is escaped for
its medium and written (:func:`reconciler.cli.output.emit_pieces`), the plan's checksum is hashed
a change at a time (:func:`reconciler.plan.model.streamed_fingerprint`), and ``asyncio.run``
never formats the plan (:func:`reconciler.memory.run`). Each must give what the whole would.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from collections.abc import Iterator
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.bss.redact import register_secret, scrub, scrub_blocks, unregister_secret
from reconciler.cli import output
from reconciler.memory import run
from reconciler.plan.model import canonical_json, fingerprint
from reconciler.plan.references import Distinct, RefIndex
from reconciler.render.escape import for_output
from reconciler.render.formats import render_text, text_lines

from .test_render import plan_of

SECRET = "s3cr3t-V4LUE-9f8e7d"
#: What masking and escaping act on, mixed with plain words and line breaks.
TOKENS = [
    "word", " ", "\n", "\n\n", "  ", "\t", SECRET, "authorization", "Authorization: ",
    "x-auth-token=", "'", '"', ": ", "=", "::", "::set-output", "##[", "\x1b[31m", "\u202e",
    "\x00", "é", "\r",
]  # fmt: skip


def split_lines(text: str, sizes: list[int]) -> Iterator[str]:
    """``text`` in pieces cut after newlines and elsewhere, as a renderer might yield it."""
    at = 0
    for size in sizes:
        if at >= len(text):
            break
        yield text[at : at + size]
        at += size
    if at < len(text):
        yield text[at:]


texts = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)
cuts = st.lists(st.integers(min_value=1, max_value=12), max_size=40)


@settings(max_examples=300, deadline=None)
@given(text=texts, sizes=cuts, size=st.integers(min_value=1, max_value=40))
def test_masking_a_block_at_a_time_masks_what_the_whole_would(
    text: str, sizes: list[int], size: int
) -> None:
    register_secret(SECRET)
    try:
        blocks = list(scrub_blocks(split_lines(text, sizes), size=size))
        assert "".join(blocks) == scrub(text)
        assert all(block.endswith("\n") for block in blocks[:-1])  # cut after a line only
    finally:
        unregister_secret(SECRET)


def test_a_header_name_at_the_end_of_a_block_waits_for_its_value() -> None:
    pieces = ["a line\n", "Authorization:\n", "\n", "Bearer abc.def\n", "after\n"]
    blocks = list(scrub_blocks(pieces, size=1))
    assert "".join(blocks) == scrub("".join(pieces))
    assert "Bearer" not in "".join(blocks)
    assert blocks[0] == "a line\n"  # cut where nothing can span the cut


def test_a_secret_holding_a_line_break_keeps_the_text_whole() -> None:
    register_secret("first-half\nsecond-half")
    try:
        pieces = ["x first-half\n", "second-half y\n", "z\n"]
        blocks = list(scrub_blocks(pieces, size=1))
        assert blocks == [scrub("".join(pieces))]
        assert "first-half" not in blocks[0]
    finally:
        unregister_secret("first-half\nsecond-half")


@settings(max_examples=300, deadline=None)
@given(text=texts, sizes=cuts, medium=st.sampled_from(["text", "markdown", "github", "json"]))
def test_escaping_text_cut_after_newlines_is_escaping_it_whole(
    text: str, sizes: list[int], medium: str
) -> None:
    blocks, block = [], ""
    for piece in split_lines(text, sizes):  # blocks that end a line, as scrub_blocks makes
        block += piece
        if block.endswith("\n"):
            blocks.append(block)
            block = ""
    blocks.append(block)
    for colour in (False, True) if medium == "text" else (False,):
        joined = "".join(for_output(b, medium, colour=colour) for b in blocks)
        assert joined == for_output(text, medium, colour=colour)


ECHO = click.echo


def written(monkeypatch: pytest.MonkeyPatch, framed: bool, call: object) -> str:
    buffer = io.StringIO()
    monkeypatch.setattr(output, "_stream", lambda err: buffer)
    monkeypatch.setattr(output, "_to_job_log", lambda stream: framed)
    monkeypatch.setattr(
        click, "echo", lambda message="", err=False, nl=True: ECHO(message, buffer, nl)
    )
    call()  # type: ignore[operator]
    return buffer.getvalue()


@pytest.mark.parametrize("framed", [False, True])
@pytest.mark.parametrize("nl", [False, True])
@pytest.mark.parametrize(
    "text", ["", "\n", "\n\n  \n", "plain", "one\ntwo\n", "\n\nlate start\n", "no end\nline"]
)
def test_emitting_pieces_writes_what_emitting_the_whole_writes(
    monkeypatch: pytest.MonkeyPatch, framed: bool, nl: bool, text: str
) -> None:
    pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
    whole = written(monkeypatch, framed, lambda: output.emit(text, nl=nl))
    monkeypatch.setattr(output, "scrub_blocks", lambda p: scrub_blocks(p, size=1))
    blockwise = written(monkeypatch, framed, lambda: output.emit_pieces(pieces, nl=nl))
    assert blockwise == whole
    if framed and text.strip():
        assert blockwise.startswith("::stop-commands::") and blockwise.endswith("::\n")


def test_a_renderer_failing_half_way_still_closes_the_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def pieces() -> Iterator[str]:
        yield "Plan for partner p\n"
        raise RuntimeError("renderer failed")

    def call() -> None:
        with pytest.raises(RuntimeError, match="renderer failed"):
            output.emit_pieces(pieces())

    monkeypatch.setattr(output, "scrub_blocks", lambda p: scrub_blocks(p, size=1))
    text = written(monkeypatch, True, call)
    lines = text.splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert lines == [f"::stop-commands::{token}", "Plan for partner p", f"::{token}::"]


def test_a_plans_lines_are_its_text_and_its_checksum_is_hashed_a_change_at_a_time() -> None:
    plan = plan_of(300)
    assert "".join(text_lines(plan)) == render_text(plan)
    assert all(piece.endswith("\n") for piece in text_lines(plan))  # cut only after lines
    assert plan.checksum == fingerprint(plan.content())
    assert plan_of(0).checksum == fingerprint(plan_of(0).content())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(obj=st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_a_dicts_fingerprint_hashed_a_list_item_at_a_time_is_the_whole_digest(
    obj: dict[str, Any],
) -> None:
    whole = "sha256:" + hashlib.sha256(canonical_json(obj).encode()).hexdigest()
    assert fingerprint(obj) == whole


def test_running_a_coroutine_never_formats_its_result() -> None:
    class Huge:
        def __repr__(self) -> str:
            raise AssertionError("the result was formatted")

    huge = Huge()

    async def main() -> Huge:
        await asyncio.sleep(0)
        return huge

    assert run(main()) is huge

    async def fails() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        run(fails())


def test_distinct_counts_each_id_once_while_it_grows() -> None:
    rng = random.Random(7)
    ids = [f"{rng.getrandbits(128):032x}" for _ in range(5000)]
    counter = Distinct()
    for ident in ids + ids[::3]:  # repeats, as offset paging shows them
        counter.add(ident)
    assert len(counter) == 5000
    counter.add("")
    assert len(counter) == 5001


class IdRef:
    def __init__(self, ident: str) -> None:
        self.ident, self.name = ident, None


def test_the_reference_index_shrinks_as_it_is_taken_and_still_finds_the_rest() -> None:
    refs: list[Any] = [IdRef(f"c{i:05d}") for i in range(1000)]
    index = RefIndex(refs)
    for ref in refs[:900]:
        assert index.take(ref.ident, None) == [ref]
    assert len(index) == 100 and len(index.by_id) == 100
    assert index.take("c00999", None) == [refs[999]]
    assert index.take("c00000", None) == []  # taken already
    assert sorted(r.ident or "" for r in index.pending()) == [r.ident for r in refs[900:999]]
