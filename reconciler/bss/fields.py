"""Reading the fields of an API answer strictly: what a decision rests on must be there, typed.

The SDK marks most response fields optional, so the real API may leave any of them out. A field
that a plan or apply decision rests on (a balance, a status, an id, a record's amount) is read
with a ``need_*`` function: absent, empty or of the wrong type, it raises :class:`FieldError`,
and the client turns that into an :class:`~reconciler.errors.IncompleteAnswerError` naming the
operation, the object and the field. Never a default. Fields only shown to people (names, times)
are read with the lenient ``opt_*`` functions, which still refuse a wrong type.

Money the API promises to be non-negative (balances, quota values, record amounts) is read with
``non_negative=True``: a negative one is as unusable as a missing one. An amount beyond what a
``Decimal`` of the context's precision can hold to the cent is not an amount. A time a decision
compares (a record's ``operation_time``) is read with :func:`need_time`: exactly the REFERENCE's
``yyyy-MM-ddTHH:mm:ssZ`` (UTC), parsed to an aware ``datetime``, so it is never compared as text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from .jsonutil import to_money

#: The API's time format (REFERENCE §6: UTC, ``yyyy-MM-ddTHH:mm:ssZ``).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


class FieldError(ValueError):
    """One field of one answer object is missing or unusable."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field} {problem}")

    def __reduce__(self) -> tuple[type[FieldError], tuple[str, str]]:
        return FieldError, (self.field, self.problem)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _missing(value: object) -> bool:
    return value is None or value == ""


def as_int(field: str, value: object) -> int:
    if isinstance(value, (bool, dict, list, float)):
        raise FieldError(field, f"is {_shown(value)}, not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise FieldError(field, f"is {_shown(value)}, not an integer")


def as_text(field: str, value: object) -> str:
    if isinstance(value, (dict, list, bool)):
        raise FieldError(field, f"is {_shown(value)}, not a string")
    return str(value)


def as_money(field: str, value: object, *, non_negative: bool = False) -> Decimal:
    try:
        amount = to_money(value)
    except (TypeError, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise FieldError(field, f"is {_shown(value)}, not an amount")
    if non_negative and amount < 0:
        raise FieldError(field, f"is {_shown(value)}, negative where the API promises >= 0")
    return amount


def as_time(field: str, value: object) -> datetime:
    """``yyyy-MM-ddTHH:mm:ssZ`` exactly (REFERENCE §6), as an aware UTC ``datetime``."""
    if isinstance(value, str) and _TIME.fullmatch(value):
        try:
            return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            pass  # 2026-02-30T00:00:00Z has the shape but is no time
    raise FieldError(field, f"is {_shown(value)}, not a time in the form yyyy-MM-ddTHH:mm:ssZ")


def need_int(data: Mapping[str, Any], field: str) -> int:
    value = data.get(field)
    if _missing(value):
        raise FieldError(field, "is missing")
    return as_int(field, value)


def need_text(data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if _missing(value):
        raise FieldError(field, "is missing")
    return as_text(field, value)


def need_money(data: Mapping[str, Any], field: str, *, non_negative: bool = False) -> Decimal:
    value = data.get(field)
    if _missing(value):
        raise FieldError(field, "is missing")
    return as_money(field, value, non_negative=non_negative)


def need_time(data: Mapping[str, Any], field: str) -> datetime:
    value = data.get(field)
    if _missing(value):
        raise FieldError(field, "is missing")
    return as_time(field, value)


def opt_int(data: Mapping[str, Any], field: str) -> int | None:
    value = data.get(field)
    return None if _missing(value) else as_int(field, value)


def opt_text(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    return None if value is None else as_text(field, value)


def opt_money(data: Mapping[str, Any], field: str, *, non_negative: bool = False) -> Decimal | None:
    value = data.get(field)
    return None if _missing(value) else as_money(field, value, non_negative=non_negative)
