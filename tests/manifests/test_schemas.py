"""The JSON Schemas: valid, documented, shipped inside the package, and in step with the code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from reconciler.kinds import registry
from reconciler.manifests.fastschema import compile_schema, ecma_regex
from reconciler.manifests.loader import KINDS, load_documents
from reconciler.manifests.published import published, union_schema
from reconciler.manifests.validation import (
    MONEY_PATTERN,
    PATTERN_HINTS,
    SCHEMA_FILES,
    SHARED_PATTERN_HINTS,
    load_schema,
    validator_for,
)
from reconciler.manifests.yamlstrict import PlainNumber

REPO = Path(__file__).parents[2]
CANONICAL = REPO / "schemas"
HERE = Path(__file__).parent
OURS = sorted([*SCHEMA_FILES.values(), "manifest.schema.json"])
BASE = "https://partner-reconciler.dev/schemas/"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CANONICAL / name).read_text(encoding="utf-8"))
    return loaded


def subschemas(node: object, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object below ``node`` with a readable location."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from subschemas(sub, f"{where}/{key}/{name}")
            elif isinstance(value, (dict, list)) and key not in ("enum", "const", "default"):
                yield from subschemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from subschemas(item, f"{where}/{index}")


def test_the_schemas_directory_is_generated_from_the_package() -> None:
    """schemas/ is what the package publishes, byte for byte (the shared schemas, each kind's
    from its package, the union built from the registry)."""
    found = {p.name: p.read_text(encoding="utf-8") for p in CANONICAL.glob("*.json")}
    assert found == published(), "schemas/ is out of date: run `make schemas`"


def test_the_package_loads_what_it_publishes() -> None:
    for name in SCHEMA_FILES.values():
        assert load_schema(name) == schema(name)
    assert union_schema() == schema("manifest.schema.json")


@pytest.mark.parametrize("name", ["plan.schema.json", "drift.schema.json"])
def test_the_plan_and_drift_schemas_list_the_registrys_kinds_actions_and_guards(name: str) -> None:
    """The lists come from the registry: a kind, an action or a guard added, renamed or removed
    changes the published schema (and the package file names none of them)."""
    published_defs = schema(name)["$defs"]
    assert published_defs["kind"]["enum"] == list(registry.IDS)
    actions = [a for k in registry.KINDS for a in k.actions]
    assert sorted(published_defs["action"]["enum"]) == sorted(set(actions))
    assert published_defs["guard"]["properties"]["name"]["enum"] == list(registry.GUARD_NAMES)
    text = (REPO / "reconciler" / "schemas" / name).read_text(encoding="utf-8")
    package = json.loads(text)["$defs"]
    assert "enum" not in package["kind"] and "enum" not in package["action"]
    assert "enum" not in package["guard"]["properties"]["name"]
    assert not any(guard.name in text for _, guard in registry.GUARDS)
    described = json.dumps(schema(name)["properties"])
    titles = ", ".join(k.title.lower() for k in registry.KINDS)
    assert f"y kind ({titles}), then key" in described


@pytest.mark.parametrize("name", OURS)
def test_schema_is_valid_draft_2020_12_with_id_title_description(name: str) -> None:
    doc = schema(name)
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == BASE + name
    assert doc["title"]
    assert doc["description"]


@pytest.mark.parametrize("name", OURS)
def test_every_property_has_a_title_and_description(name: str) -> None:
    checked = 0
    for where, node in subschemas(schema(name)):
        parts = where.split("/")
        if len(parts) >= 2 and parts[-2] in ("properties", "$defs") and "if" not in parts:
            assert node.get("title") and node.get("description"), f"{name}{where}"
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES.values()))
def test_objects_forbid_unknown_properties(name: str) -> None:
    for where, node in subschemas(schema(name)):
        if node.get("type") == "object":
            assert "additionalProperties" in node, f"{name}{where}"
            if "properties" in node:
                assert node["additionalProperties"] is False, f"{name}{where}"


def test_money_and_patterns_are_the_ones_the_code_explains() -> None:
    patterns = {
        node["pattern"]
        for name in OURS
        for _, node in subschemas(schema(name))
        if "pattern" in node
    }
    assert MONEY_PATTERN in patterns
    assert patterns - {MONEY_PATTERN} == set(PATTERN_HINTS)
    money = schema("reseller-quota.schema.json")["$defs"]["money"]
    assert (money["type"], money["pattern"]) == ("string", r"^(0|[1-9][0-9]{0,11})\.[0-9]{2}$")


@pytest.mark.parametrize("kind", registry.KINDS, ids=lambda k: k.id)
def test_a_kind_explains_its_own_patterns(kind: Any) -> None:
    """A kind's schema may use a shared pattern; any other, it explains itself (and only the
    ones its schema uses), so a new kind's patterns need no edit outside its package."""
    patterns = {node["pattern"] for _, node in subschemas(kind.schema()) if "pattern" in node}
    own = patterns - {MONEY_PATTERN} - set(SHARED_PATTERN_HINTS)
    assert set(kind.pattern_hints) == own


def test_shared_definitions_are_identical() -> None:
    for key in ("metadata", "money"):
        found = [
            schema(n)["$defs"][key] for n in SCHEMA_FILES.values() if key in schema(n)["$defs"]
        ]
        assert len(found) >= 2
        assert all(f == found[0] for f in found), key


def dispatcher() -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resources(
        (BASE + name, Resource.from_contents(schema(name))) for name in OURS
    )
    return Draft202012Validator(schema("manifest.schema.json"), registry=registry)


def test_dispatcher_picks_the_schema_of_each_kind() -> None:
    validator = dispatcher()
    assert set(schema("manifest.schema.json")["properties"]["kind"]["enum"]) == set(KINDS)
    for doc in load_documents([HERE / "good"]).documents:
        assert validator.is_valid(dict(doc.content)), doc.file
        broken = {**doc.content, "spec": {"unexpected": True}}
        assert not validator.is_valid(broken), doc.file
    assert not validator.is_valid({**dict(doc.content), "kind": "Nope"})


def corpus_documents() -> list[tuple[str, dict[str, Any]]]:
    loaded = load_documents([HERE / "good", HERE / "corpus"]).documents
    return [(f"{Path(d.file).name}#{d.index}", dict(d.content)) for d in loaded if d.kind in KINDS]


REPLACEMENTS: list[object] = [
    "",
    "two words",
    "x",
    "x\n",
    "12.5",
    12,
    -1,
    100,
    True,
    None,
    PlainNumber("1.5"),
    [],
    {},
]


def mutations(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[str, object]]:
    """``node`` with one value replaced (or one key dropped), for every value in it."""
    for replacement in REPLACEMENTS:
        yield f"{path}={replacement!r}", replacement
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in list(children):
        if isinstance(node, dict):
            yield f"{path}-{key}", {k: v for k, v in node.items() if k != key}
        for where, changed in mutations(child, (*path, key)):
            copy: Any = dict(node) if isinstance(node, dict) else list(node)  # type: ignore[call-overload]
            copy[key] = changed
            yield where, copy


@pytest.mark.parametrize(("where", "content"), corpus_documents(), ids=lambda v: str(v)[:40])
def test_fast_check_agrees_with_jsonschema(where: str, content: dict[str, Any]) -> None:
    kind_schema = load_schema(SCHEMA_FILES[content["kind"]])
    fast, full = compile_schema(kind_schema), validator_for(content["kind"])
    for change, mutated in [("as is", content), *mutations(content)]:
        if isinstance(mutated, dict) and mutated.get("kind") == content["kind"]:
            assert fast(mutated) == full.is_valid(mutated), (where, change)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^\S+$", "acme", True),
        (r"^\S+$", "acme\n", False),  # ECMA: $ is the very end
        (MONEY_PATTERN, "12.00\n", False),
        (MONEY_PATTERN, "12.00", True),
        (r"^a\$", "a$", True),
    ],
)
def test_ecma_dollar(pattern: str, text: str, matches: bool) -> None:
    assert (ecma_regex(pattern).search(text) is not None) is matches
