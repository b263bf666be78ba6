"""Our former fast check (reconciler/manifests/fastschema.py until jsonschema-rs replaced it), kept
so that bench/libraries.py can still measure it side by side. Not used by the reconciler.

A fast yes/no check of a document against our JSON Schemas, for large manifests.

``jsonschema`` spends about 40 µs on each list entry, so 100,000 customers took 8 s. This module
compiles the small subset of JSON Schema our schemas use into closures, roughly ten times faster.
It is only ever trusted to say *valid*: when it says *not valid*, or the schema uses a keyword it
does not know, the caller runs ``jsonschema`` for the real verdict and the messages. A test
checks that both agree on every manifest in the test corpus.

Regular expressions follow ECMA-262 as JSON Schema specifies: a final ``$`` matches only at the
very end, not before a trailing newline as Python's ``$`` does (:func:`ecma_regex`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from reconciler.manifests.fastschema import ecma_regex

__all__ = ["Check", "compile_schema", "ecma_regex"]

Check = Callable[[object], bool]

_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)


def compile_schema(root: Mapping[str, Any]) -> Check:
    """A predicate that is true only for instances ``root`` certainly accepts."""
    return _Compiler(root).compile(root)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


_TYPES: Mapping[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": _is_number,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _never(_value: object) -> bool:
    return False


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: object) -> Check:
        if schema is True:
            return lambda _v: True
        if not isinstance(schema, Mapping):
            return _never
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            check = self._keyword(keyword, value, schema)
            if check is None:
                return _never  # a keyword we do not know: let jsonschema decide
            checks.append(check)
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    def _keyword(self, keyword: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        simple = _simple_keyword(keyword, value)
        if simple is not None:
            return simple
        if keyword in ("properties", "additionalProperties"):
            return self._object(keyword, value, schema)
        if keyword in ("items", "propertyNames"):
            return self._members(keyword, self.compile(value))
        if keyword in ("oneOf", "anyOf", "allOf"):
            return self._combinator(keyword, [self.compile(s) for s in value])
        if keyword == "$ref":
            return self._ref(value)
        return None

    @staticmethod
    def _members(keyword: str, check: Check) -> Check:
        if keyword == "items":
            return lambda v: not isinstance(v, list) or all(check(i) for i in v)
        return lambda v: not isinstance(v, dict) or all(check(k) for k in v)

    def _object(self, keyword: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        if keyword == "properties":
            props = {k: self.compile(s) for k, s in value.items()}
            return lambda v: (
                not isinstance(v, dict) or all(props[k](x) for k, x in v.items() if k in props)
            )
        if "patternProperties" in schema:
            return None
        known = frozenset(schema.get("properties", {}))
        extra = self.compile(value)
        return lambda v: (
            not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
        )

    @staticmethod
    def _combinator(keyword: str, subs: list[Check]) -> Check:
        if keyword == "oneOf":
            return lambda v: sum(1 for s in subs if s(v)) == 1
        if keyword == "anyOf":
            return lambda v: any(s(v) for s in subs)
        return lambda v: all(s(v) for s in subs)

    def _ref(self, ref: str) -> Check | None:
        if not ref.startswith("#/$defs/"):
            return None
        name = ref.removeprefix("#/$defs/")
        if name not in self.refs:
            self.refs[name] = _never  # a recursive reference stays "not sure": jsonschema decides
            self.refs[name] = self.compile(self.root.get("$defs", {}).get(name))
        return self.refs[name]


def _simple_keyword(keyword: str, value: Any) -> Check | None:
    """Keywords that look at one value only."""
    if keyword == "type":
        types = [value] if isinstance(value, str) else list(value)
        known = [_TYPES[t] for t in types if t in _TYPES]
        return (lambda v: any(t(v) for t in known)) if len(known) == len(types) else None
    if keyword in ("const", "enum"):
        options = [value] if keyword == "const" else list(value)
        if not all(isinstance(o, str) for o in options):
            return None
        allowed = frozenset(options)
        return lambda v: isinstance(v, str) and v in allowed
    if keyword == "pattern":
        regex = ecma_regex(value)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    return _bound_keyword(keyword, value)


def _bound_keyword(keyword: str, value: Any) -> Check | None:
    bounds: Mapping[str, Check] = {
        "minLength": lambda v: not isinstance(v, str) or len(v) >= value,
        "maxLength": lambda v: not isinstance(v, str) or len(v) <= value,
        "minimum": lambda v: not _is_number(v) or v >= value,
        "maximum": lambda v: not _is_number(v) or v <= value,
        "minItems": lambda v: not isinstance(v, list) or len(v) >= value,
        "minProperties": lambda v: not isinstance(v, dict) or len(v) >= value,
        "required": lambda v: not isinstance(v, dict) or all(k in v for k in value),
        "uniqueItems": lambda v: not value or _unique_strings(v),
    }
    return bounds.get(keyword)


def _unique_strings(value: object) -> bool:
    if not isinstance(value, list):
        return True
    # Only lists of strings are judged here; anything else goes to jsonschema.
    return all(isinstance(v, str) for v in value) and len(set(value)) == len(value)
