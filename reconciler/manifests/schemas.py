"""The JSON Schemas the package validates with: each kind's (from its package), the Settings'.

The Settings schema in ``reconciler/schemas/`` holds the guards every kind shares; its
``spec.guards`` gains each kind's own (:class:`~reconciler.plan.guards.GuardSpec`) here, so a
kind's guard needs no edit outside its package. The same way, the plan and drift schemas gain
the registry's kind ids, actions and guard names (and the kinds' order in words): the files in
``reconciler/schemas/`` leave those lists out, and ``schemas/`` publishes them filled in.
Validators use ECMA-262's ``$`` in patterns, as JSON Schema specifies
(:func:`~reconciler.manifests.fastschema.ecma_regex`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from reconciler.kinds import registry
from reconciler.manifests.fastschema import Check, compile_schema, ecma_regex

#: Manifest kind -> its schema's file name in ``schemas/``: each kind's (kept in its package),
#: and the Settings' (kept in ``reconciler/schemas/``).
SCHEMA_FILES: Mapping[str, str] = {
    **{k.manifest_kind: k.published_schema for k in registry.KINDS},
    "Settings": "settings.schema.json",
}
_KIND_SCHEMAS = {k.published_schema: k for k in registry.KINDS}
DISPATCHER_SCHEMA = "manifest.schema.json"


def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped inside the package by its name in ``schemas/``, parsed: a kind's from
    its package, the others from ``reconciler/schemas/``."""
    return dict(_load_schema(name))


@cache
def _load_schema(name: str) -> Mapping[str, Any]:
    kind = _KIND_SCHEMAS.get(name)
    if kind is not None:
        return kind.schema()
    text = resources.files("reconciler").joinpath("schemas").joinpath(name).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    if name == SCHEMA_FILES["Settings"]:
        _add_guards(loaded)
    if name in KIND_LISTS:
        _add_kinds(loaded, KIND_LISTS[name])
    return loaded


#: The schemas of outputs that name kinds -> the property listing objects in kind order.
KIND_LISTS: Mapping[str, str] = {"plan.schema.json": "changes", "drift.schema.json": "items"}


def _strings(values: Iterator[str] | tuple[str, ...], what: str) -> dict[str, Any]:
    return {"type": "string", "description": f"{what} (from the registry of kinds).",
            "enum": list(dict.fromkeys(values))}  # fmt: skip


def _add_kinds(schema: dict[str, Any], ordered: str) -> None:
    """The registry's kind ids, actions and guard names as the enums of ``$defs``, and the kinds'
    order in the description of the list of changes (``ordered``)."""
    defs = schema["$defs"]
    defs["kind"] = _strings(registry.IDS, "A kind id")
    defs["action"] = _strings((a for k in registry.KINDS for a in k.actions), "A change action")
    defs["guard"]["properties"]["name"] = _strings(registry.GUARD_NAMES, "A guard's name")
    listed = schema["properties"][ordered]
    kinds = ", ".join(k.title.lower() for k in registry.KINDS)
    text = listed["description"]
    listed["description"] = re.sub(r"([Bb]y kind)", rf"\1 ({kinds})", text, count=1)


def _add_guards(settings: dict[str, Any]) -> None:
    """Settings ``spec.guards`` gains each kind's guards (``GuardSpec``): a money limit as an
    amount, a count as a whole number, each with its default."""
    guards = settings["properties"]["spec"]["properties"]["guards"]["properties"]
    for _kind, spec in registry.GUARDS:
        if spec.money:
            guards[spec.setting] = {
                "$ref": "#/$defs/money",
                "title": spec.title,
                "description": spec.description,
                "default": spec.shown(spec.default, observed=False),
            }
        else:
            guards[spec.setting] = {
                "title": spec.title,
                "description": spec.description,
                "type": "integer",
                "minimum": 0,
                "default": spec.default,
            }


def _ecma_pattern(
    validator: Validator, pattern: str, instance: object, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` with JSON Schema's (ECMA-262) meaning of ``$``: the very end of the string."""
    if isinstance(instance, str) and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_StrictValidator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _ecma_pattern}
)


@cache
def validator_for(kind: str) -> Validator:
    """The JSON Schema validator of ``kind`` (with ECMA-262 ``$`` in patterns)."""
    return _StrictValidator(_load_schema(SCHEMA_FILES[kind]))


@cache
def fast_check(kind: str) -> Check:
    """A yes-only check of ``kind``'s schema (:mod:`reconciler.manifests.fastschema`)."""
    return compile_schema(_load_schema(SCHEMA_FILES[kind]))


_ROOT_KEYS = frozenset({"$schema", "$id", "$defs", "title", "description", "type", "required",
                        "properties", "additionalProperties"})  # fmt: skip
_OBJECT_KEYS = _ROOT_KEYS - {"$schema", "$id", "$defs"}
_LIST_KEYS = frozenset({"title", "description", "type", "items"})


@cache
def item_schema(kind: str, key: str) -> Mapping[str, Any] | None:
    """The schema of one item of list ``spec.<key>`` of ``kind``'s documents, when checking
    each item against it, and the document with that list empty against the document's schema,
    finds exactly the problems of checking the document whole: the list's schema is an
    ``array`` of ``items`` (no count, uniqueness or ``contains``) and nothing above it (the
    document's, its ``spec``'s) combines subschemas or matches keys by pattern. ``None``
    otherwise (the list is then never streamed)."""
    root = _load_schema(SCHEMA_FILES[kind])
    spec = root.get("properties", {}).get("spec", {})
    listed = spec.get("properties", {}).get(key, {}) if isinstance(spec, Mapping) else {}
    items = listed.get("items") if isinstance(listed, Mapping) else None
    if not (
        set(root) <= _ROOT_KEYS
        and set(spec) <= _OBJECT_KEYS
        and set(listed) <= _LIST_KEYS
        and listed.get("type") == "array"
        and isinstance(items, Mapping)
        and not set(items) & {"$schema", "$id", "$defs"}
    ):
        return None
    return {**{k: root[k] for k in ("$schema", "$id", "$defs") if k in root}, **items}


def _item_schema(kind: str, key: str) -> Mapping[str, Any]:
    found = item_schema(kind, key)
    if found is None:
        raise ValueError(f"{kind}: spec.{key} cannot be validated an item at a time")
    return found


@cache
def item_validator(kind: str, key: str) -> Validator:
    """The validator of one item of ``kind``'s list ``spec.<key>`` (:func:`item_schema`)."""
    return _StrictValidator(_item_schema(kind, key))


@cache
def fast_item_check(kind: str, key: str) -> Check:
    """A yes-only check of one item of ``kind``'s list ``spec.<key>``."""
    return compile_schema(_item_schema(kind, key))


@cache
def fast_items_check(kind: str, key: str) -> Check:
    """A yes-only check of a list of items of ``kind``'s list ``spec.<key>`` (one call for a
    few hundred: a call costs more than an item)."""
    schema = _item_schema(kind, key)
    defs = {k: v for k, v in schema.items() if k in ("$schema", "$id", "$defs")}
    items = {k: v for k, v in schema.items() if k not in defs}
    return compile_schema({**defs, "type": "array", "items": items})
