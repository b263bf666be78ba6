"""Streaming a long list (reconciler/manifests/stream.py): the same desired state, or the same
problems at the same file:line:col, as reading every document whole."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from reconciler.errors import ManifestError, SourcePosition
from reconciler.kinds import registry
from reconciler.manifests import positions, stream
from reconciler.manifests.load import load_desired
from reconciler.manifests.schemas import item_schema
from reconciler.manifests.yamlstrict import Limits, StreamInterrupted, parse_yaml

HEAD = "apiVersion: partner-reconciler/v1\nkind: {kind}\nmetadata: {{name: {name}}}\n"


def customer_id(n: int) -> str:
    return f"{n:032x}"


def auto_renew(count: int, *, name: str = "all", extra: dict[int, str] | None = None) -> str:
    """An AutoRenew document of ``count`` customers; ``extra[i]`` replaces entry ``i``."""
    lines = [HEAD.format(kind="AutoRenew", name=name), "spec:\n  customers:\n"]
    for i in range(count):
        entry = (extra or {}).get(i)
        on = "true" if i % 2 else "false"
        lines.append(entry or f'    - customerId: "{customer_id(i)}"\n      autoRenew: {on}\n')
    return "".join(lines)


def outcome(paths: Sequence[Path], *, streamed: bool) -> tuple[Any, ...]:
    """What a load gives: the desired state, or every problem as the CLI prints it."""
    try:
        desired = load_desired(paths, stream=streamed)
    except ManifestError as exc:
        return ("problems", [str(p) for p in exc.problems])
    return ("desired", desired.checksum, desired.entries, desired.settings, desired.files)


def both(paths: Sequence[Path]) -> tuple[Any, ...]:
    whole = outcome(paths, streamed=False)
    assert outcome(paths, streamed=True) == whole
    return whole


@pytest.fixture
def items_seen() -> Iterator[list[int]]:
    """The sizes of the views a load's streams made (empty: nothing was streamed)."""
    seen: list[int] = []
    real = stream._View.of

    def of(self: Any, start: int, items: Any) -> Any:
        seen.append(len(items))
        return real(self, start, items)

    with mock.patch.object(stream._View, "of", of):
        yield seen


def test_a_long_list_is_taken_a_batch_at_a_time(tmp_path: Path, items_seen: list[int]) -> None:
    path = tmp_path / "auto-renew.yaml"
    path.write_text(auto_renew(stream.BATCH * 2 + 7))
    kind, _checksum, entries, *_ = both([path])
    assert kind == "desired"
    rules = entries[registry.by_manifest("AutoRenew").id]  # type: ignore[union-attr]
    assert len(rules) == stream.BATCH * 2 + 7
    assert [r.customer_id for r in rules] == [customer_id(i) for i in range(len(rules))]
    last = rules[-1]
    line = 6 + 2 * (len(rules) - 1)
    assert (last.source, last.customer.source) == (
        SourcePosition(str(path.as_posix()), line, 7),
        SourcePosition(str(path.as_posix()), line, 19),
    )
    assert items_seen == [stream.BATCH, stream.BATCH, 7]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_problems_anywhere_in_a_long_list(tmp_path: Path, where: str) -> None:
    count = stream.BATCH + 100
    index = {"first": 0, "middle": stream.BATCH - 1, "last": count - 1}[where]
    bad = (
        f'    - customerId: "{customer_id(3)}"\n'  # declared twice (entry 3 has it)
        "      autoRenw: true\n"
    )
    path = tmp_path / "auto-renew.yaml"
    path.write_text(auto_renew(count, extra={index: bad}))
    kind, problems = both([path])
    line = 6 + 2 * index
    name = path.as_posix()
    expected = [
        f"{name}:{line}:7: spec.customers[{index}]: nothing to manage: give at least one of "
        "'autoRenew', 'serviceTypes' or 'resources'",
        f"{name}:{line + 1}:7: spec.customers[{index}].autoRenw: unknown property 'autoRenw' "
        "(did you mean 'autoRenew'?)",
    ]
    first, later = sorted([3, index])
    if first != later:
        expected.append(
            f"{name}:{6 + 2 * later}:19: spec.customers[{later}].customerId: customerId "
            f"'{customer_id(3)}' in AutoRenew is declared twice (also declared at "
            f"{name}:{6 + 2 * first}:19)"
        )
    assert kind == "problems"
    assert sorted(problems) == sorted(expected)


def test_a_customer_declared_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(auto_renew(3, name="a"))
    (tmp_path / "b.yaml").write_text(auto_renew(stream.BATCH + 3, name="b"))
    _, problems = both([tmp_path])
    assert len(problems) == 3
    assert all("is declared twice (also declared at" in p and "a.yaml" in p for p in problems)


def test_a_file_ending_inside_a_streamed_list_loads_again_whole(tmp_path: Path) -> None:
    """The items before the syntax error were checked: a whole read never looks at a document
    it cannot finish, so the second file's customers are not 'declared twice'."""
    (tmp_path / "a.yaml").write_text(auto_renew(5, name="a") + "    - {customerId: [\n")
    (tmp_path / "b.yaml").write_text(auto_renew(5, name="b"))
    with pytest.raises(StreamInterrupted):
        parse_yaml((tmp_path / "a.yaml").read_text(), "a.yaml", Limits(), sink=_sink_taking_all())
    _, problems = both([tmp_path])
    assert len(problems) == 1 and "YAML syntax error" in problems[0]


def test_kind_after_spec_reads_the_document_whole(tmp_path: Path, items_seen: list[int]) -> None:
    text = auto_renew(4).replace("kind: AutoRenew\n", "") + "kind: AutoRenew\n"
    (tmp_path / "late.yaml").write_text(text)
    assert both([tmp_path])[0] == "desired"
    assert items_seen == []


def test_only_the_opted_in_lists_stream(items_seen: list[int]) -> None:
    """Every kind that streams a list has a schema that allows it; the others read whole."""
    streamed = [k for k in registry.KINDS if k.streamed_list]
    assert {k.manifest_kind for k in streamed} == {"AutoRenew", "AccountManagers"}
    for kind in streamed:
        assert item_schema(kind.manifest_kind, str(kind.streamed_list)) is not None
    examples = Path(__file__).parents[2] / "examples" / "manifests"
    assert both([examples])[0] == "desired"
    assert items_seen  # the examples' AutoRenew and AccountManagers lists


def _sink_taking_all() -> Any:
    class Taker:
        def take(self, item: object, at: object) -> None:
            pass

        def close(self) -> None:
            pass

    class Sink:
        def open(self, *_args: object) -> Taker:
            return Taker()

    return Sink()


# -- generated documents ---------------------------------------------------------------------

_IDS = st.integers(min_value=0, max_value=6).map(lambda n: f'"{customer_id(n)}"')
_REFS = st.one_of(
    _IDS.map(lambda i: f"customerId: {i}"),
    st.sampled_from(["customer: acme", "customer: 'two words'", "customerId: 42", "customer: "]),
    _IDS.map(lambda i: f"customerId: {i}, customer: acme"),
    st.just(""),
)
_RENEW = st.lists(
    st.sampled_from(
        [
            "autoRenew: true",
            "autoRenew: false",
            "autoRenew: no",
            "periodType: YEAR",
            "periodType: WEEK",
            "renewTimes: 3",
            "renewTimes: 300",
            "serviceTypes: {hws.service.type.ebs: true}",
            "serviceTypes: {ebs: true}",
            "resources: {r-1: false}",
            "resources: {}",
            "autoRenw: true",
            "autoRenew: !!bool true",
            "autoRenew: &a true",
        ]
    ),
    max_size=3,
)
_MANAGE = st.lists(
    st.sampled_from(["manager: m-1", "manager: null", "manager: 7", "manager: two words", "x: 1"]),
    max_size=2,
)


@st.composite
def documents(draw: st.DrawFn, index: int) -> str:
    kind = draw(st.sampled_from(["AutoRenew", "AccountManagers"]))
    fields = _RENEW if kind == "AutoRenew" else _MANAGE
    entries = draw(st.lists(st.tuples(_REFS, fields), max_size=9))
    lines = [f"    - {{{', '.join(f for f in [ref, *rest] if f)}}}\n" for ref, rest in entries]
    head = HEAD.format(kind=kind, name=draw(st.sampled_from(["one", "two", f"doc-{index}"])))
    spec = "spec:\n  customers:\n" + "".join(lines) if lines else "spec:\n  customers: []\n"
    spec += draw(st.sampled_from(["", "  extra: 1\n", "  customers: []\n"]))
    if draw(st.booleans()):
        return head + spec
    return spec + head  # kind after spec: read whole


@st.composite
def manifest_files(draw: st.DrawFn) -> list[str]:
    count = draw(st.integers(min_value=1, max_value=2))
    files = []
    for n in range(count):
        docs = [draw(documents(n * 10 + i)) for i in range(draw(st.integers(1, 2)))]
        text = "---\n".join(docs)
        text += draw(st.sampled_from(["", "", "---\n- {customerId: [\n", "trailing: [\n"]))
        files.append(text)
    return files


@given(files=manifest_files())
@settings_(max_examples=150, deadline=None)
def test_streamed_and_whole_loads_agree(files: list[str]) -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        for n, text in enumerate(files):
            (directory / f"f{n}.yaml").write_text(text)
        with mock.patch.object(stream, "BATCH", 2):  # many views, of one and two items
            both([directory])


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(st.integers(0, 2**21), st.integers(0, 300)),
            st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_packed_positions_come_back(places: list[tuple[int, int] | None]) -> None:
    given_ = [None if p is None else SourcePosition("packed.yaml", *p) for p in places]
    packed = positions.pack(given_)
    back = [positions.unpack(packed, i, len(given_)) for i in range(len(given_))]
    # the wide form cannot tell line 0 column 0 from "not given" (manifests start at 1:1)
    wide = not packed & 1
    lost = [p is None or (wide and (p.line, p.col) == (0, 0)) for p in given_]
    assert back == [None if gone else p for p, gone in zip(given_, lost, strict=True)]


def test_an_entry_packs_its_positions_in_60_bits() -> None:
    """53 bits besides the file's number (numbered in order of first use in the process): an
    integer of 32 bytes for the first 128 files, where three 64-bit positions took 56."""
    first = SourcePosition("packed.yaml", 99_999, 7)
    near = SourcePosition("packed.yaml", 100_000, 19)
    packed = positions.pack((first, near, near))
    assert packed.bit_length() <= 53 + (int(first) >> 64).bit_length()
    assert sys.getsizeof((1 << 59) + 1) == 32
    with pytest.raises(ValueError, match="one file"):
        positions.pack((first, SourcePosition("other.yaml", 1, 1)))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  description: 中文\x07\n", ":6:18: character #x0007 is not allowed in YAML"),
        ("  description: 中文\n\tx: 1\n", ":7:1: YAML syntax error"),
    ],
    ids=["control character after non-ASCII text", "tab"],
)
def test_a_file_is_read_in_chunks_with_the_positions_of_its_text(
    tmp_path: Path, body: str, expected: str
) -> None:
    """The parser reads the file a chunk at a time (its byte order mark skipped); the text is
    read whole again only for the message, which points where parsing the text points."""
    text = HEAD.format(kind="AutoRenew", name="x").replace("{name: x}", "\n  name: x\n") + body
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    _, problems = both([path])
    assert len(problems) == 1 and problems[0].startswith(path.as_posix() + expected)
    [alone] = parse_yaml(text, path.as_posix(), Limits()).problems
    assert str(alone) == problems[0]
