"""Validate manifest documents: JSON Schema per kind, then checks across documents.

Every schema error becomes a :class:`~reconciler.errors.ManifestProblem` at the position of the
offending node (for a missing property, the mapping that lacks it; for an unknown property, the
key itself) with a message that says what to write instead. Checks that span documents
(duplicate names, customers, resellers and resources) live in
:mod:`reconciler.manifests.crosschecks`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from jsonschema import ValidationError

from reconciler.errors import ManifestError, ManifestProblem
from reconciler.kinds import registry
from reconciler.manifests.crosschecks import SharedChecks
from reconciler.manifests.document import Document
from reconciler.manifests.schemas import (
    DISPATCHER_SCHEMA,
    SCHEMA_FILES,
    fast_check,
    fast_item_check,
    item_validator,
    load_schema,
    validator_for,
)
from reconciler.manifests.yamlstrict import JsonPath, PlainNumber, YamlValue

__all__ = [
    "DISPATCHER_SCHEMA",
    "MONEY_PATTERN",
    "SCHEMA_FILES",
    "DocumentChecks",
    "item_problems",
    "load_schema",
    "schema_problems",
    "validate",
    "validate_documents",
    "validator_for",
]

MONEY_PATTERN = r"^(0|[1-9][0-9]{0,11})\.[0-9]{2}$"
#: What a value that fails one of the shared schemas' patterns is, in words (the envelope, the
#: Settings). A kind adds the messages of its own schema's patterns (``Kind.pattern_hints``).
SHARED_PATTERN_HINTS: Mapping[str, str] = {
    r"^\S+$": "must not contain spaces",
    r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$": (
        "is not a valid name: use letters, digits, '.', '_' and '-', "
        "starting and ending with a letter or digit"
    ),
    r"^[1-9][0-9]{0,3}[smhd]$": 'is not a duration: a number and a unit s, m, h or d, e.g. "1h"',
}
#: Every pattern's message: the shared ones and each kind's.
PATTERN_HINTS: Mapping[str, str] = {**SHARED_PATTERN_HINTS, **registry.PATTERN_HINTS}
_CENT = Decimal("0.01")
_MONEY_MAX = Decimal("1000000000000")


def validate(documents: Sequence[Document]) -> None:
    """Raise :class:`ManifestError` with every problem in ``documents``, if there are any."""
    problems = validate_documents(documents)
    if problems:
        raise ManifestError(problems)


def validate_documents(documents: Sequence[Document]) -> list[ManifestProblem]:
    """Every schema and cross-document problem, sorted and without duplicates."""
    checks = DocumentChecks()
    problems: set[ManifestProblem] = set()
    for doc in documents:
        problems.update(checks.add(doc))
    return sorted(problems)


class DocumentChecks:
    """Validation a document at a time, in file order: its schema, then the checks across the
    documents given so far (the shared ones, then its kind's own). A load of 100,000 customers
    may let go of each document once it is checked and built."""

    def __init__(self) -> None:
        self._shared = SharedChecks()
        self._kinds: dict[str, Callable[[Document], Iterable[ManifestProblem]]] = {}

    def add(self, doc: Document) -> list[ManifestProblem]:
        """The problems ``doc`` shows, on its own and after the documents before it."""
        found = schema_problems(doc)
        found.extend(self._shared.check(doc))
        kind = registry.by_manifest(doc.kind)
        if kind is not None:
            found.extend(self.of_kind(kind.id)(doc))
        return found

    def of_kind(self, kind_id: str) -> Callable[[Document], Iterable[ManifestProblem]]:
        """The crosschecks of one kind in this load (:meth:`Kind.crosschecks
        <reconciler.kinds.spec.Kind.crosschecks>`): a streaming load gives them each item's view
        as it is parsed, and then the rest of its document."""
        check = self._kinds.get(kind_id)
        if check is None:
            check = self._kinds[kind_id] = registry.kind(kind_id).crosschecks()
        return check


def schema_problems(doc: Document) -> list[ManifestProblem]:
    """The JSON Schema problems of one document, each at its node's position."""
    kind = doc.content.get("kind")
    if not isinstance(kind, str) or kind not in SCHEMA_FILES:
        return [_kind_problem(doc, kind)]
    if fast_check(kind)(doc.content):
        return []
    problems: list[ManifestProblem] = []
    content: Any = doc.content  # plain JSON-like data, which the stubs cannot express
    for error in validator_for(kind).iter_errors(content):
        problems.extend(_explain(doc, error))
    return problems


def item_problems(
    doc: Document, kind: str, path: JsonPath, item: YamlValue
) -> list[ManifestProblem]:
    """The JSON Schema problems of one item (at ``path``, ``("spec", key, index)``) of a list a
    load streams (:func:`~reconciler.manifests.schemas.item_schema`): those validating its whole
    document finds in it, at the same positions (``doc`` is the item's view)."""
    key = str(path[1])
    if fast_item_check(kind, key)(item):
        return []
    problems: list[ManifestProblem] = []
    value: Any = item
    for error in item_validator(kind, key).iter_errors(value):
        problems.extend(_explain(doc, error, path))
    return problems


def _kind_problem(doc: Document, kind: object) -> ManifestProblem:
    kinds = sorted(SCHEMA_FILES)
    valid = ", ".join(kinds)
    if kind is None and "kind" not in doc.content:
        return doc.problem((), f"missing 'kind' (one of {valid})")
    hint = _suggest(kind, kinds) if isinstance(kind, str) else ""
    return doc.problem(("kind",), f"unknown kind {show(kind)}{hint}; valid kinds: {valid}")


Explainer = Callable[[Document, JsonPath, ValidationError], list[ManifestProblem]]


def _schema_of(error: ValidationError) -> Mapping[str, Any]:
    schema = error.schema
    return schema if isinstance(schema, Mapping) else {}


def _value_of(error: ValidationError) -> Any:
    """The keyword's value in the schema, e.g. the list of ``required`` properties."""
    return error.validator_value


def _instance_of(error: ValidationError) -> Any:
    return error.instance


def _explain(doc: Document, error: ValidationError, base: JsonPath = ()) -> list[ManifestProblem]:
    path: JsonPath = (*base, *error.absolute_path)
    if "propertyNames" in error.relative_schema_path:
        key = str(error.instance)
        text = _simple_message(error) or str(error.message)
        return [doc.problem((*path, key), f"key {text}", at_key=True)]
    explain = _EXPLAINERS.get(str(error.validator))
    if explain is not None:
        return explain(doc, path, error)
    return [doc.problem(path, _simple_message(error) or str(error.message))]


def _required(doc: Document, path: JsonPath, error: ValidationError) -> list[ManifestProblem]:
    instance = _instance_of(error)
    missing = [k for k in _value_of(error) if k not in instance]
    return [doc.problem(path, f"missing required property '{key}'") for key in missing]


def _additional(doc: Document, path: JsonPath, error: ValidationError) -> list[ManifestProblem]:
    allowed = list(_schema_of(error).get("properties", {}))
    problems = []
    for key in _instance_of(error):
        if key in allowed:
            continue
        hint = _suggest(key, allowed) or f" (allowed: {', '.join(allowed)})"
        problems.append(doc.problem((*path, key), f"unknown property '{key}'{hint}", at_key=True))
    return problems


def _unique(doc: Document, path: JsonPath, error: ValidationError) -> list[ManifestProblem]:
    seen: list[object] = []
    for index, item in enumerate(_instance_of(error)):
        if item in seen:
            return [doc.problem((*path, index), f"{show(item)} is listed twice")]
        seen.append(item)
    return [doc.problem(path, "has duplicate items")]


def _choice(doc: Document, path: JsonPath, error: ValidationError) -> list[ManifestProblem]:
    """``oneOf``/``anyOf`` over ``required`` alternatives: one of these keys must be there."""
    names = _required_alternatives(_value_of(error))
    if names is None:
        return [doc.problem(path, str(error.message))]
    listed = _or_list(names)
    if error.validator == "anyOf":
        return [doc.problem(path, f"nothing to manage: give at least one of {listed}")]
    present = [n for n in names if n in _instance_of(error)]
    if present:
        return [doc.problem(path, f"give only one of {_or_list(present)}, not both")]
    return [doc.problem(path, f"needs {listed}")]


def _required_alternatives(branches: object) -> list[str] | None:
    names: list[str] = []
    for branch in branches if isinstance(branches, list) else []:
        required = branch.get("required") if isinstance(branch, dict) else None
        if not (isinstance(required, list) and len(branch) == 1 and len(required) == 1):
            return None
        names.append(str(required[0]))
    return names or None


def _simple_message(error: ValidationError) -> str | None:
    """A message for the keywords that concern one value; ``None`` for the others."""
    value, instance, schema = _value_of(error), _instance_of(error), _schema_of(error)
    validator = str(error.validator)
    if validator == "type":
        return type_message(value, instance, schema)
    if validator == "pattern":
        if value == MONEY_PATTERN:
            return money_message(str(instance))
        return f"{show(instance)} {PATTERN_HINTS.get(str(value), f'does not match {value}')}"
    if validator in ("minimum", "maximum"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{show(instance)} is out of range (from {low} to {high})"
        bound = "at least" if validator == "minimum" else "at most"
        return f"{show(instance)} is out of range (must be {bound} {value})"
    return _size_message(validator, value, instance)


def _size_message(validator: str, value: Any, instance: Any) -> str | None:
    if validator == "enum":
        options = [str(v) for v in value] if isinstance(value, list) else []
        message = f"{show(instance)} is not one of {', '.join(options)}"
        return message + (_suggest(instance, options) if isinstance(instance, str) else "")
    if validator == "minLength" and value == 1:
        return "must not be empty"
    fixed = _FIXED_MESSAGES.get(validator)
    return fixed.format(shown=show(instance), value=value) if fixed else None


_FIXED_MESSAGES: Mapping[str, str] = {
    "const": "{shown} must be {value!r}",
    "minLength": "is shorter than {value} characters",
    "maxLength": "{shown} is longer than {value} characters",
    "minItems": "must not be an empty list: list at least one item, or leave it out",
    "minProperties": "must not be empty: add at least one entry, or leave it out",
}


_EXPLAINERS: Mapping[str, Explainer] = {
    "required": _required,
    "additionalProperties": _additional,
    "uniqueItems": _unique,
    "oneOf": _choice,
    "anyOf": _choice,
}


def type_message(expected: object, instance: object, schema: Mapping[str, Any]) -> str:
    """What to write instead of ``instance`` where a value of type ``expected`` belongs."""
    wanted: list[object] = list(expected) if isinstance(expected, list) else [expected]
    if schema.get("pattern") == MONEY_PATTERN:
        return money_message(instance)
    if instance is None:
        return f"is empty: give {_type_names(wanted)}"
    if "string" in wanted and _is_scalar(instance):
        text = _text(instance)
        return f'{text} must be a string (quote it: "{text}")'
    return _scalar_type_message(wanted, instance)


def _scalar_type_message(wanted: list[object], instance: object) -> str:
    if "boolean" in wanted:
        return f"{show(instance)} is not a boolean (use true or false)"
    if "integer" not in wanted:
        return f"must be {_type_names(wanted)}, not {_kind_of(instance)}"
    if isinstance(instance, str) and instance.strip().lstrip("-").isdigit():
        return f"{show(instance)} must be a number, not a string (write it without quotes)"
    return f"{show(instance)} is not a whole number"


def money_message(instance: object) -> str:
    """Why ``instance`` is not a money amount, and an example of what to write."""
    if not isinstance(instance, str):
        text = _text(instance)
        example = _money_example(text) if isinstance(instance, (int, PlainNumber)) else "12.50"
        return (
            f"{text} is not a money amount: write it as a quoted string with two decimals, "
            f'e.g. "{example}"'
        )
    if instance.strip().startswith("-"):
        return f"{show(instance)} is not a money amount: amounts cannot be negative"
    amount = _decimal(instance)
    if amount is not None and amount >= _MONEY_MAX:
        return f"{show(instance)} is not a money amount: at most 999999999999.99"
    example = _money_example(instance)
    return f'{show(instance)} is not a money amount (use two decimals, e.g. "{example}")'


def _money_example(text: str) -> str:
    amount = _decimal(text)
    if amount is None or amount < 0 or amount >= _MONEY_MAX:
        return "12.34"
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -2:
        return format(amount.quantize(_CENT), "f")
    return "12.34"


def _decimal(text: str) -> Decimal | None:
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def show(value: object) -> str:
    """A value as the user wrote it, for messages: ``'no'``, ``12345``, ``true``, ``null``."""
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if value is None or isinstance(value, (bool, int, PlainNumber)):
        return _text(value)
    return _kind_of(value)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, PlainNumber):
        return value.text
    return str(value)


def _is_scalar(value: object) -> bool:
    return isinstance(value, (bool, int, PlainNumber))


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number" if _is_scalar(value) and not isinstance(value, bool) else "a boolean"


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "object": "a mapping (key: value)",
    "array": "a list (- item)",
    "null": "null",
}


def _type_names(wanted: Iterable[object]) -> str:
    return " or ".join(_TYPE_NAMES.get(str(w), str(w)) for w in wanted)


def _or_list(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _suggest(word: str, options: Sequence[str]) -> str:
    """`` (did you mean 'X'?)`` for a close option, else ``""``."""
    lowered = {o.lower(): o for o in options}
    match = lowered.get(word.lower())
    if match is None:
        close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = lowered[close[0]] if close else None
    return f" (did you mean '{match}'?)" if match else ""
