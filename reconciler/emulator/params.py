"""Reading and validating request parameters (JSON body or query string) the way the API does.

Every violation is a 400 ``CBC.0100`` naming the field. Absent, ``null`` and ``""`` are told
apart because the API treats them differently per field (REFERENCE §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from reconciler.emulator import jsonutil, timefmt
from reconciler.emulator.errors import InvalidParameter


def parse_body(body: bytes, *, required: bool) -> dict[str, Any]:
    """The JSON object in ``body``. An empty body is ``{}`` unless ``required``."""
    if not body.strip():
        if required:
            raise InvalidParameter("the request body is required (send at least {})")
        return {}
    try:
        data = jsonutil.loads(body)
    except ValueError as exc:
        raise InvalidParameter(f"the request body is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidParameter("the request body must be a JSON object")
    return data


def parse_query(raw_query: str, repeatable: tuple[str, ...] = ()) -> dict[str, Any]:
    """Query parameters, decoded with ``unquote`` (a ``+`` stays a ``+``).

    A ``repeatable`` name (``operation_types=1&operation_types=2``) gives a list of strings;
    any other name given twice is refused.
    """
    values: dict[str, Any] = {}
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        name = unquote(key)
        if name in repeatable:
            values.setdefault(name, []).append(unquote(value))
        elif name in values:
            raise InvalidParameter(f"{name} is given more than once")
        else:
            values[name] = unquote(value)
    return values


class Params:
    """Typed access to one request's parameters. ``from_query`` means every value is a string."""

    def __init__(self, values: Mapping[str, Any], *, from_query: bool = False) -> None:
        self.values = values
        self.from_query = from_query

    def present(self, name: str) -> bool:
        return name in self.values

    def string(
        self,
        name: str,
        *,
        max_len: int | None = None,
        enum: tuple[str, ...] | None = None,
        no_spaces: bool = False,
        empty: str = "none",
        required: bool = False,
    ) -> str | None:
        """A string. ``empty``: ``none`` ("" = no filter), ``reject`` or ``keep``."""
        value = self.values.get(name)
        if value is None:
            if required:
                raise InvalidParameter(f"{name} is required")
            return None
        if not isinstance(value, str):
            raise InvalidParameter(f"{name} must be a string")
        if value == "":
            if required or empty == "reject":
                raise InvalidParameter(f"{name} must not be empty")
            return "" if empty == "keep" else None
        if max_len is not None and len(value) > max_len:
            raise InvalidParameter(f"{name} is longer than {max_len} characters")
        if no_spaces and " " in value:
            raise InvalidParameter(f"{name} must not contain spaces")
        if enum is not None and value not in enum:
            raise InvalidParameter(f"{name} must be one of {', '.join(enum)}")
        return value

    def timestamp(self, name: str) -> str | None:
        """A ``yyyy-MM-ddTHH:mm:ssZ`` filter; absent/null = no filter, ``""`` rejected."""
        value = self.string(name, max_len=20, empty="reject")
        if value is not None and not timefmt.is_timestamp(value):
            raise InvalidParameter(f"{name} must be a UTC time like 2019-05-06T08:05:01Z")
        return value

    def integer(
        self,
        name: str,
        *,
        default: int | None = None,
        lo: int | None = None,
        hi: int | None = None,
        enum: tuple[int, ...] | None = None,
        required: bool = False,
    ) -> int | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise InvalidParameter(f"{name} is required")
            return default
        number = self._to_int(name, value)
        if enum is not None and number not in enum:
            raise InvalidParameter(f"{name} must be one of {', '.join(map(str, enum))}")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise InvalidParameter(f"{name} must be between {lo} and {hi}")
        return number

    def _to_int(self, name: str, value: object) -> int:
        if self.from_query and isinstance(value, str):
            if not value.isdigit():
                raise InvalidParameter(f"{name} must be a non-negative integer")
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameter(f"{name} must be an integer")
        return value

    def page(self, *, limit_max: int, offset_max: int = 2147483647) -> tuple[int, int]:
        """``(offset, limit)`` with the API defaults 0 and 10; over-limit values are rejected."""
        offset = self.integer("offset", default=0, lo=0, hi=offset_max)
        limit = self.integer("limit", default=10, lo=1, hi=limit_max)
        assert offset is not None and limit is not None
        return offset, limit

    def string_list(
        self,
        name: str,
        *,
        max_items: int,
        required: bool = False,
        null_ok: bool = True,
        enum: tuple[str, ...] | None = None,
        empty_ok: bool = True,
    ) -> list[str] | None:
        """A list of non-empty strings of at most 64 characters (``empty_ok``: ``[]`` allowed)."""
        value = self._list(name, max_items=max_items, required=required, null_ok=null_ok)
        if value is None:
            return None
        if not value and not empty_ok:
            raise InvalidParameter(f"{name} must not be empty (leave it out instead)")
        for item in value:
            if not isinstance(item, str) or not item:
                raise InvalidParameter(f"{name} must hold non-empty strings")
            if len(item) > 64:
                raise InvalidParameter(f"{name} holds an id longer than 64 characters")
            if enum is not None and item not in enum:
                raise InvalidParameter(f"{name} values must be among {', '.join(enum)}")
        return value

    def int_list(self, name: str, *, max_items: int, enum: tuple[int, ...]) -> list[int] | None:
        value = self._list(name, max_items=max_items, required=False, null_ok=True)
        if value is None:
            return None
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or item not in enum:
                raise InvalidParameter(f"{name} values must be among {', '.join(map(str, enum))}")
        return value

    def _list(
        self, name: str, *, max_items: int, required: bool, null_ok: bool
    ) -> list[Any] | None:
        if name not in self.values:
            if required:
                raise InvalidParameter(f"{name} is required")
            return None
        value = self.values[name]
        if value is None:
            if required or not null_ok:
                raise InvalidParameter(f"{name} must not be null")
            return None
        if not isinstance(value, list):
            raise InvalidParameter(f"{name} must be a list")
        if required and not value:
            raise InvalidParameter(f"{name} must not be empty")
        if len(value) > max_items:
            raise InvalidParameter(f"{name} holds more than {max_items} items")
        return value

    def keyed_ids(self, name: str, key: str, *, max_items: int) -> list[str]:
        """A required, non-empty list of objects ``{key: "<id>"}`` (e.g. ``customer_infos``)."""
        items = self._list(name, max_items=max_items, required=True, null_ok=False)
        assert items is not None
        found: list[str] = []
        for item in items:
            value = item.get(key) if isinstance(item, dict) else None
            if not isinstance(value, str) or not value or len(value) > 64:
                raise InvalidParameter(f"{name}[].{key} must be a string of 1..64 characters")
            found.append(value)
        return found

    def money(self, name: str) -> Decimal:
        """A required amount > 0 with at most two decimals, as a JSON number or numeric string."""
        if self.values.get(name) is None:
            raise InvalidParameter(f"{name} is required")
        amount = jsonutil.parse_money(self.values[name])
        if amount is None:
            raise InvalidParameter(f"{name} must be a number with at most 2 decimal places")
        if amount <= 0:
            raise InvalidParameter(f"{name} must be greater than 0")
        return amount
