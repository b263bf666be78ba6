"""Exact JSON for money: ``Decimal`` in, ``Decimal`` out, never a float on the way.

The partner API writes amounts as bare JSON numbers with two decimals (``1200.00``). The standard
library cannot emit a ``Decimal`` as a number without going through ``float``, so :func:`dumps`
is a small serialiser of its own. :func:`loads` parses every non-integer number as ``Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """``value`` as a ``Decimal`` quantised to two places (no checks; see :func:`parse_money`)."""
    return Decimal(value).quantize(CENT)


def parse_money(value: object) -> Decimal | None:
    """An amount with at most two decimals as written, or ``None`` if ``value`` is not one.

    Accepts ``Decimal`` and ``int`` (as parsed from a JSON number) and numeric strings (the docs'
    examples send ``"100.00"``). Floats, booleans, NaN and infinities are refused.
    """
    number = _to_decimal(value)
    if number is None or not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return None  # "12.345" and also "12.300": more than two decimal places as written
    return number.quantize(CENT)


def _to_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    if not isinstance(value, str) or not value or value != value.strip():
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def loads(data: bytes | str) -> Any:
    """Parse JSON with every fractional number as ``Decimal``."""
    return json.loads(data, parse_float=Decimal)


def dumps(value: Any) -> bytes:
    """Serialise ``value`` to compact UTF-8 JSON; ``Decimal`` becomes a two-decimal bare number."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


#: The C string encoder behind ``json.dumps(text, ensure_ascii=False)``, without its set-up cost
#: (a page of 500 resources holds about 15,000 strings).
_encode_str = json.encoder.encode_basestring
_LITERALS: dict[Any, str] = {None: "null", True: "true", False: "false"}


def _write(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_encode_str(value))
    elif value is None or kind is bool:
        out.append(_LITERALS[value])
    elif kind is dict:
        _write_mapping(value, out)
    elif kind is list:
        _write_sequence(value, out)
    elif isinstance(value, str):
        out.append(_encode_str(str(value)))
    elif isinstance(value, Decimal):
        out.append(format(value.quantize(CENT), "f"))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in emulator JSON; use Decimal or int")
    elif isinstance(value, Mapping):
        _write_mapping(value, out)
    elif isinstance(value, Sequence):
        _write_sequence(value, out)
    else:
        raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _write_mapping(value: Mapping[Any, Any], out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in value.items():
        if not first:
            out.append(",")
        first = False
        out.append(_encode_str(str(key)))
        out.append(":")
        _write(item, out)
    out.append("}")


def _write_sequence(value: Sequence[Any], out: list[str]) -> None:
    out.append("[")
    first = True
    for item in value:
        if not first:
            out.append(",")
        first = False
        _write(item, out)
    out.append("]")
