"""The strict YAML reader: scalar typing, positions, refusals and caps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.manifests.yamlstrict import (
    Limits,
    ParseResult,
    PlainNumber,
    YamlValue,
    format_path,
    parse_yaml,
    resolve_plain,
)


def parse(text: str, limits: Limits | None = None) -> ParseResult:
    return parse_yaml(text, "t.yaml", limits or Limits())


def value_of(text: str) -> YamlValue:
    result = parse(text)
    assert not result.problems, result.problems
    return result.documents[0].value


@pytest.mark.parametrize(
    ("plain", "expected"),
    [
        ("true", True),
        ("false", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("0", 0),
        ("12345", 12345),
        ("-7", -7),
        # YAML 1.1 surprises stay strings
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("off", "off"),
        ("True", "True"),
        ("NULL", "NULL"),
        ("0123", "0123"),
        ("0o17", "0o17"),
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("1:20", "1:20"),
        ("+12", "+12"),
        (".inf", ".inf"),
        ("2024-01-01", "2024-01-01"),
        ("hws.service.type.ebs", "hws.service.type.ebs"),
    ],
)
def test_plain_scalars_follow_the_json_subset_of_yaml_1_2(plain: str, expected: YamlValue) -> None:
    got = resolve_plain(plain)
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("plain", ["12.5", "12.50", "-5.00", ".5", "1e3", "0123.4", "12."])
def test_plain_fractions_become_plain_numbers_not_money(plain: str) -> None:
    got = resolve_plain(plain)
    assert isinstance(got, PlainNumber)
    assert got.text == plain
    assert got == Decimal(plain)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: '12345'", "12345"),
        ('a: "no"', "no"),
        ("a: !!str 12345", "12345"),
        ("a: !!str no", "no"),
        ("a: |\n  text\n", "text\n"),
    ],
)
def test_quoted_block_and_str_tagged_scalars_are_strings(text: str, expected: str) -> None:
    assert value_of(text) == {"a": expected}


def test_positions_of_values_and_keys() -> None:
    doc = parse("spec:\n  resellers:\n    - reseller: north\n      balance: '1.00'\n").documents[0]
    assert doc.values[()] == (1, 1)
    assert doc.values[("spec", "resellers", 0)] == (3, 7)
    assert doc.values[("spec", "resellers", 0, "balance")] == (4, 16)
    assert doc.keys[("spec", "resellers", 0, "balance")] == (4, 7)


def test_several_documents_keep_their_index() -> None:
    result = parse("a: 1\n---\n---\nb: 2\n")
    assert [(d.index, d.value) for d in result.documents] == [
        (0, {"a": 1}),
        (1, None),
        (2, {"b": 2}),
    ]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a: 1\na: 2\n", (2, 1), "duplicate key 'a' (first defined at line 1)"),
        ("a: &x 1\n", (1, 4), "anchors and aliases are not allowed (&x)"),
        ("? [k]\n: 1\n", (1, 3), "a key must be a string, not a mapping or list"),
        ("1: x\n", (1, 1), 'key 1 must be a string (quote it: "1")'),
        ("true: x\n", (1, 1), 'key true must be a string (quote it: "true")'),
        ("~: x\n", (1, 1), "a key must not be empty"),
        ("a: !!int 12\n", (1, 4), "tag !!int is not allowed"),
        ("a: !custom x\n", (1, 4), "tag !custom is not allowed"),
        ("a: !!map {b: 1}\n", (1, 4), "tag !!map is not allowed"),
        ("a: [1, 2\n", (2, 1), "YAML syntax error"),
        ("a: \x07\n", (1, 4), "character #x0007 is not allowed"),
    ],
)
def test_refusals_point_at_the_node(text: str, position: tuple[int, int], fragment: str) -> None:
    result = parse(text)
    [problem] = result.problems
    assert (problem.position.line, problem.position.col) == position
    assert fragment in problem.message


def test_alias_is_refused_and_not_expanded() -> None:
    result = parse("a: &x [1, 2]\nb: *x\n")
    assert [p.position.line for p in result.problems] == [1, 2]
    assert result.documents[0].value == {"a": [1, 2], "b": None}


def test_values_under_refused_keys_are_still_checked() -> None:
    result = parse("a: 1\na: &x 2\n")
    assert ["duplicate key" in p.message for p in result.problems] == [True, False]
    assert result.documents[0].value == {"a": 1}


@pytest.mark.parametrize(
    ("limits", "text", "fragment"),
    [
        (Limits(max_depth=3), "a: {b: {c: 1}}\n", "nested more than 3 levels deep"),
        (Limits(max_documents=2), "a: 1\n---\nb: 1\n---\nc: 1\n", "more than 2 documents"),
        (Limits(max_nodes=5), "a: [1, 2, 3, 4]\n", "more than 5 YAML nodes"),
        (Limits(max_problems=2), "a: &a 1\nb: &b 1\nc: &c 1\n", "more than 2 problems"),
    ],
)
def test_caps_stop_the_file(limits: Limits, text: str, fragment: str) -> None:
    result = parse(text, limits)
    assert result.failed
    assert fragment in result.problems[-1].message


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), ""),
        (("spec", "resellers", 0, "balance"), "spec.resellers[0].balance"),
        (
            ("spec", "serviceTypes", "hws.service.type.ebs"),
            'spec.serviceTypes["hws.service.type.ebs"]',
        ),
        ((0, "a"), "[0].a"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text
