"""Every registered kind is complete (the rest of the package never naming one is
tests/architecture/test_kind_names.py).

Walking the registry, each kind must have: its JSON Schema (in its package, published in
``schemas/`` and reachable from the union schema), an example under ``examples/`` using it, the
emulator's routes for every API operation it reads or writes, and contract tests for each of
them (``tests/contract/``). See docs/architecture.md, "Adding a kind".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.emulator.routes import ROUTES
from reconciler.kinds import registry
from reconciler.kinds.spec import Kind
from reconciler.manifests.loader import load_documents

REPO = Path(__file__).resolve().parents[2]
KINDS = [pytest.param(k, id=k.id) for k in registry.KINDS]


def operations(kind: Kind[Any]) -> set[str]:
    """The API operations a kind reads (its declared reads) or writes (its journal operations)."""
    return {op.name for op in kind.operations} | {read.api for read in kind.reads}


def example_kinds() -> set[str]:
    """The manifest kinds the documents under examples/ use."""
    found: set[str] = set()
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        found |= {d.kind for d in load_documents([path]).documents}
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_the_kind_has_its_schema(kind: Kind[Any]) -> None:
    schema = kind.schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["kind"]["const"] == kind.manifest_kind
    assert schema["$id"].endswith("/" + kind.published_schema)
    published = REPO / "schemas" / kind.published_schema
    assert json.loads(published.read_text(encoding="utf-8")) == schema, "run `make schemas`"
    union = json.loads((REPO / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
    assert kind.manifest_kind in union["properties"]["kind"]["enum"]
    assert {"$ref": kind.published_schema} in [branch["then"] for branch in union["allOf"]]


@pytest.mark.parametrize("kind", KINDS)
def test_an_example_uses_the_kind(kind: Kind[Any]) -> None:
    assert kind.manifest_kind in example_kinds(), f"add an example of {kind.manifest_kind}"


@pytest.mark.parametrize("kind", KINDS)
def test_the_emulator_routes_every_operation_of_the_kind(kind: Kind[Any]) -> None:
    routed = {route.operation for route in ROUTES}
    assert operations(kind) - routed == set()


@pytest.mark.parametrize("kind", KINDS)
def test_contract_tests_cover_every_operation_of_the_kind(kind: Kind[Any]) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "tests/contract").glob("*.py"))
    assert {name for name in operations(kind) if name not in text} == set()


@pytest.mark.parametrize("kind", KINDS)
def test_the_kind_is_wired_into_the_cli(kind: Kind[Any]) -> None:
    from reconciler.cli.options import GUARD_NAMES
    from reconciler.gitops.export_read import KINDS as EXPORTED

    assert {g.name for g in kind.guards} <= set(GUARD_NAMES)
    assert (kind.id in EXPORTED) == (kind.export_file is not None)
    assert kind.package == f"reconciler.kinds.{kind.package.rsplit('.', 1)[-1]}"
    assert set(kind.marks) <= set(kind.actions)


def test_every_kind_has_a_kind_of_its_own() -> None:
    """The registry refuses two kinds that share an id, a manifest kind, an operation, a read,
    a guard or a Settings key (at import); here: every attribute is filled."""
    for kind in registry.KINDS:
        assert kind.id and kind.manifest_kind and kind.title and kind.actions
        assert kind.published_schema.endswith(".schema.json")
    assert len({k.order for k in registry.KINDS}) == len(registry.KINDS)
