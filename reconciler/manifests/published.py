"""The schemas published in ``schemas/`` at the top of the repository, generated from the package.

Editors and the YAML language server read ``schemas/`` (export writes modelines pointing at it),
so it holds every schema: the shared ones kept in ``reconciler/schemas/`` (the plan and the
drift report, which gain the registry's kind ids, actions and guard names, ``validate --format
json``, and Settings, whose ``spec.guards`` gains every kind's guards), each kind's own (kept in
its package, see :mod:`reconciler.kinds.spec`) and the union ``manifest.schema.json`` that
dispatches on ``kind``, built from the registry. ``schemas/`` is
generated, never edited: ``make schemas`` writes it and ``tests/manifests/test_schemas.py``
fails when it is out of date.

    python -m reconciler.manifests.published schemas
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.kinds import registry
from reconciler.manifests.schemas import DISPATCHER_SCHEMA, KIND_LISTS, SCHEMA_FILES, load_schema

BASE = "https://partner-reconciler.dev/schemas/"
#: The schemas of the package that are not a kind's.
SHARED = ("drift.schema.json", "plan.schema.json", "settings.schema.json", "validate.schema.json")


def union_schema() -> dict[str, Any]:
    """Any manifest document: the schema of its ``kind`` (for files that mix kinds)."""
    kinds = sorted(SCHEMA_FILES)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": BASE + DISPATCHER_SCHEMA,
        "title": "partner-reconciler manifest",
        "description": "Any partner-reconciler manifest document; picks the schema of its kind. "
        "Point editors here for files that mix kinds.",
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {
                "title": "API version",
                "description": "Always partner-reconciler/v1.",
                "type": "string",
                "const": "partner-reconciler/v1",
            },
            "kind": {
                "title": "Kind",
                "description": f"One of {', '.join(kinds)}.",
                "type": "string",
                "enum": kinds,
            },
            "metadata": {
                "title": "Metadata",
                "description": "Name (unique per kind) and an optional description.",
                "type": "object",
            },
            "spec": {
                "title": "Spec",
                "description": "The desired state; its shape depends on kind.",
                "type": "object",
            },
        },
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {"$ref": SCHEMA_FILES[kind]},
            }
            for kind in kinds
        ],
    }


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def published() -> dict[str, str]:
    """File name -> text of every schema ``schemas/`` holds."""
    files = {
        name: resources.files("reconciler").joinpath("schemas").joinpath(name).read_text("utf-8")
        for name in SHARED
    }
    settings = SCHEMA_FILES["Settings"]
    files[settings] = _dump(load_schema(settings))  # with the kinds' guards
    for name in KIND_LISTS:
        files[name] = _dump(load_schema(name))  # with the kind ids, actions and guard names
    for kind in registry.KINDS:
        text = resources.files(kind.package).joinpath(kind.schema_file).read_text("utf-8")
        files[kind.published_schema] = text
    files[DISPATCHER_SCHEMA] = _dump(union_schema())
    return dict(sorted(files.items()))


def write(directory: Path) -> list[str]:
    """Write :func:`published` into ``directory`` (removing schemas no longer published);
    returns the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    files = published()
    for stale in directory.glob("*.schema.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return list(files)


if __name__ == "__main__":  # pragma: no cover
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        sys.stdout.write(f"{written}\n")
