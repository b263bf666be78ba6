"""The emulator and the client have no import circles, and the emulator imports nothing from the
rest of the reconciler.

Every import counts: module level, under ``TYPE_CHECKING`` and inside functions, because each one
ties the modules together for a reader and for a refactoring even when it runs late or never.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"


def _modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module under ``root`` (packages by their ``__init__``)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module of ``known`` that ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in known else base


def _graph(root: Path) -> dict[str, set[str]]:
    known = _modules(root)
    return {
        name: {dep for dep in _imported(name, path, known) if dep in known and dep != name}
        for name, path in known.items()
    }


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for dep in sorted(graph[node]):
            if dep == start:
                return [*path, start]
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, [*path, dep]))
    return None


@pytest.mark.parametrize("package", ["emulator", "bss"])
def test_no_import_circles(package: str) -> None:
    graph = _graph(PACKAGE / package)
    circles = [c for name in sorted(graph) if (c := _cycle_from(name, graph))]
    assert circles == [], "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_the_emulator_imports_nothing_from_the_reconciler() -> None:
    known = _modules(PACKAGE / "emulator")
    outside = sorted(
        f"{name} imports {dep}"
        for name, path in known.items()
        for dep in _imported(name, path, known)
        if dep.startswith("reconciler") and not dep.startswith("reconciler.emulator")
    )
    assert outside == []


def test_the_checker_sees_a_circle_through_a_function_local_import(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle_from("a", graph) == ["a", "b", "c", "a"]
    assert _cycle_from("d", graph) is None
    source = "def f():\n    from reconciler.emulator import core\n"
    known = {"reconciler.emulator.core": tmp_path / "core.py", "x": tmp_path / "x.py"}
    (tmp_path / "x.py").write_text(source)
    assert list(_imported("x", tmp_path / "x.py", known)) == ["reconciler.emulator.core"]
