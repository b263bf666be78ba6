"""The package layout is the pipeline: no import circles, and lower layers never import higher ones.

Every import counts, including those under ``TYPE_CHECKING`` and inside functions: a circle
hidden in a function is still a circle a reader has to untangle.

Kinds sit in the middle of the pipeline, which the part-level table alone cannot say: a kind
plugs into shared machinery that lives in other parts (the plan model and worker pools, the
journal and its fenced calls, settlement evidence, the words and YAML every output uses), and
the drivers of those same parts (the reader and planner, the executor and settlement, drift,
export, the renderers, the CLI) iterate the registry of kinds. So besides the table:

* a kind imports, from other parts, only :data:`KIND_MACHINERY` (and errors, bss, the clock);
* no module of :data:`KIND_MACHINERY` reaches ``reconciler.kinds`` (checked transitively), so the
  machinery stays below every kind;
* nothing outside ``reconciler/kinds/`` imports a kind's package: only the interface and the
  registry (:data:`KIND_INTERFACE`).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"

#: Each top-level part of the package and the parts it may import (besides itself).
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "memory": set(),  # freed memory back to the system (the reader, the load); memory.run
    "emulator": set(),
    "bss": {"errors", "emulator"},
    "connect": {"errors", "bss", "emulator"},
    "manifests": {"errors", "kinds", "memory"},
    "kinds": {"errors", "bss", "emulator", "manifests", "plan", "apply", "render", "gitops"},
    "plan": {"errors", "bss", "emulator", "manifests", "kinds", "connect", "memory"},
    "render": {"errors", "manifests", "plan", "gitops", "kinds"},
    "files": {"errors"},
    "apply": {
        "errors",
        "bss",
        "emulator",
        "manifests",
        "kinds",
        "plan",
        "render",
        "connect",
        "memory",
    },
    "gitops": {
        "errors",
        "bss",
        "emulator",
        "manifests",
        "kinds",
        "plan",
        "connect",
        "files",
        "memory",
    },
    "cli": {
        "files",
        "errors",
        "bss",
        "emulator",
        "manifests",
        "kinds",
        "plan",
        "render",
        "apply",
        "gitops",
        "connect",
        "memory",
    },
    "__init__": {"_version"},
    "_version": set(),  # written by setuptools-scm at build time
}


#: Single modules allowed across a layer, each with the reason. Keep this list short.
EXCEPTIONS: set[tuple[str, str]] = set()

#: What kinds plug into, outside ``reconciler/kinds/``: none of these may reach a kind.
KIND_MACHINERY = {
    "reconciler.manifests.desired",
    "reconciler.manifests.document",
    "reconciler.manifests.yamlstrict",
    "reconciler.manifests.build",
    "reconciler.manifests.crosschecks",
    "reconciler.plan.model",
    "reconciler.plan.guards",
    "reconciler.plan.pools",
    "reconciler.apply.ops",
    "reconciler.apply.journal",
    "reconciler.apply.journal_model",
    "reconciler.apply.evidence",
    "reconciler.apply.writers",
    "reconciler.render.words",
    "reconciler.gitops.yamlout",
    "reconciler.gitops.account",
    "reconciler.emulator.clock",
}
#: The modules of ``reconciler/kinds/`` that the rest of the package may import.
KIND_INTERFACE = {
    "reconciler.kinds.registry",
    "reconciler.kinds.spec",
    "reconciler.kinds.reads",
    "reconciler.kinds.base",
}

#: Leaves any part may import: they import nothing from the package. The escapers are the one
#: way third-party text reaches an output, from the CLI, export, error messages or the emulator.
SHARED_LEAVES = {"reconciler.render.escape"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path) -> Iterator[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


@functools.cache
def graph() -> dict[str, set[str]]:
    return {
        name: {i for i in imports_of(path) if i in MODULES and i != name}
        for name, path in MODULES.items()
    }


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "__init__"


def test_no_import_circles() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layers(module: str) -> None:
    own = part(module)
    allowed = LAYERS[own] | {own, "__init__"}  # the package root holds only __version__
    wrong = sorted(
        i
        for i in graph()[module]
        if part(i) not in allowed and i not in SHARED_LEAVES and (module, i) not in EXCEPTIONS
    )
    assert wrong == [], f"{module} ({own}) may not import {wrong}"


@pytest.mark.parametrize("module", sorted(SHARED_LEAVES))
def test_shared_leaves_import_nothing_from_the_package(module: str) -> None:
    assert graph()[module] == set(), graph()[module]


def in_kinds(module: str) -> bool:
    return module.startswith("reconciler.kinds.") or module == "reconciler.kinds"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if in_kinds(m)))
def test_kinds_plug_into_the_machinery_only(module: str) -> None:
    wrong = sorted(
        i
        for i in graph()[module]
        if not in_kinds(i)
        and part(i) not in ("errors", "bss")
        and i not in KIND_MACHINERY | SHARED_LEAVES
    )
    assert wrong == [], (
        f"{module} may not import {wrong}: add to KIND_MACHINERY only what is below every kind"
    )


def reach(module: str) -> set[str]:
    seen: set[str] = set()
    todo = [module]
    while todo:
        for nxt in graph()[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("module", sorted(KIND_MACHINERY))
def test_the_machinery_never_reaches_a_kind(module: str) -> None:
    assert module in MODULES, f"{module} is listed in KIND_MACHINERY but does not exist"
    assert sorted(i for i in reach(module) if in_kinds(i)) == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not in_kinds(m)))
def test_nothing_outside_kinds_imports_a_kind_package(module: str) -> None:
    wrong = sorted(
        i
        for i in graph()[module]
        if in_kinds(i) and i not in KIND_INTERFACE and (module, i) not in EXCEPTIONS
    )
    assert wrong == [], f"{module} imports {wrong}: go through reconciler.kinds.registry"
