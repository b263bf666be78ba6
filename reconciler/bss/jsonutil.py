"""JSON the way the Huawei SDK writes it, with exact money.

* :func:`dumps` writes what ``simplejson.dumps`` writes for an SDK model: separators ``", "`` and
  ``": "``, keys in the order given (build bodies in the REFERENCE's field order), ``None`` values
  of mappings left out, ASCII-escaped strings, and ``Decimal`` values as bare JSON numbers with
  exactly two decimal places (``1200.00``). A float is refused: it cannot hold an amount exactly.
* :func:`loads` parses with ``parse_float=Decimal``, so ``0.1`` stays ``Decimal("0.1")``.
* :func:`to_money` turns a parsed value (``Decimal``, ``int`` or numeric string) into a
  ``Decimal`` quantised to 0.01 when that loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")

_encode_str = json.JSONEncoder(ensure_ascii=True).encode


def money_text(value: Decimal) -> str:
    """``value`` as a JSON number with exactly two decimals; refuses sub-cent precision."""
    if not value.is_finite():
        raise ValueError(f"money amount must be finite, got {value}")
    quantised = value.quantize(CENT)
    if quantised != value:
        raise ValueError(f"money amount {value} has more than 2 decimal places")
    return f"{quantised:f}"


_LITERALS: dict[object, str] = {None: "null", True: "true", False: "false"}


def _encode_scalar(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return _LITERALS[value]
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        raise TypeError("floats are not allowed in request bodies; use Decimal for money")
    return None


def _encode(value: object) -> str:
    scalar = _encode_scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        items = (f"{_encode_str(str(k))}: {_encode(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_encode(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def dumps(value: object) -> bytes:
    """Serialise ``value`` to UTF-8 bytes exactly as the SDK would send it."""
    return _encode(value).encode("utf-8")


def loads(content: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as an exact ``Decimal``."""
    return json.loads(content, parse_float=Decimal)


def to_money(value: object) -> Decimal | None:
    """A response amount as ``Decimal`` (quantised to 0.01 when exact); ``None`` if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, float)):
        raise TypeError(f"amount must not be {type(value).__name__}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        quantised = amount.quantize(CENT)  # InvalidOperation beyond the context's precision
    except InvalidOperation as exc:
        raise ValueError(f"not a money amount: {value!r}") from exc
    return quantised if quantised == amount else amount
