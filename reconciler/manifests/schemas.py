"""The JSON Schemas the package validates with: each kind's (from its package), the Settings'.

The Settings schema in ``reconciler/schemas/`` holds the guards every kind shares; its
``spec.guards`` gains each kind's own (:class:`~reconciler.plan.guards.GuardSpec`) here, so a
kind's guard needs no edit outside its package. Validators use ECMA-262's ``$`` in patterns, as
JSON Schema specifies (:func:`~reconciler.manifests.fastschema.ecma_regex`).
"""

from __future__ import annotations

import json
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
    return loaded


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
