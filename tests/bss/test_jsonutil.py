# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# (the [tool.mypy] "tests.*" override, until tests/ is a package: see docs/client.md)
"""Exact money on the wire: SDK-style JSON out, Decimal in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.bss import jsonutil


def test_dumps_matches_sdk_layout():
    body = {"quota_ids": ["2020061902584509"], "remark": "test", "skipped": None}
    assert jsonutil.dumps(body) == b'{"quota_ids": ["2020061902584509"], "remark": "test"}'
    assert jsonutil.dumps({"offset": 0, "limit": 100}) == b'{"offset": 0, "limit": 100}'
    assert jsonutil.dumps({}) == b"{}"
    assert jsonutil.dumps({"a": True, "b": [], "c": "é"}) == b'{"a": true, "b": [], "c": "\\u00e9"}'


@pytest.mark.parametrize(
    ("amount", "wire"),
    [
        (Decimal("1200"), b"1200.00"),
        (Decimal("1200.00"), b"1200.00"),
        (Decimal("0.1") + Decimal("0.2"), b"0.30"),
        (Decimal("1.230"), b"1.23"),
        (Decimal("99999999999.99"), b"99999999999.99"),
    ],
)
def test_decimal_is_a_bare_number_with_two_places(amount, wire):
    assert jsonutil.dumps({"quota_amount": amount}) == b'{"quota_amount": ' + wire + b"}"


@pytest.mark.parametrize("bad", [Decimal("12.345"), Decimal("0.001"), Decimal("NaN")])
def test_sub_cent_or_non_finite_refused(bad):
    with pytest.raises(ValueError, match=r"decimal places|finite"):
        jsonutil.dumps({"quota_amount": bad})


def test_float_refused():
    with pytest.raises(TypeError, match="Decimal"):
        jsonutil.dumps({"quota_amount": 0.1})


def test_loads_keeps_decimals_exact():
    data = jsonutil.loads(b'{"a": 0.1, "b": 0.2, "n": 3, "big": 12345678901234567.89}')
    assert data["a"] + data["b"] == Decimal("0.3")
    assert data["n"] == 3 and isinstance(data["n"], int)
    assert data["big"] == Decimal("12345678901234567.89")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("5"), Decimal("5.00")),
        (5, Decimal("5.00")),
        ("1200.5", Decimal("1200.50")),
        (None, None),
        ("", None),
        (Decimal("1.005"), Decimal("1.005")),  # never rounded away
    ],
)
def test_to_money(raw, expected):
    value = jsonutil.to_money(raw)
    assert value == expected
    if expected is not None:
        assert str(value) == str(expected)


def test_to_money_refuses_floats_and_garbage():
    with pytest.raises(TypeError):
        jsonutil.to_money(1.5)
    with pytest.raises(ValueError):
        jsonutil.to_money("abc")
