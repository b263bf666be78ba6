"""Nothing outside ``reconciler/kinds/`` names a kind: the pipeline iterates the registry.

A kind's names are its class name, its manifest kind (``ResellerQuota``), its plan kind id
(``reseller-quota``) and what it declares it owns (:attr:`Kind.owns
<reconciler.kinds.spec.Kind.owns>`: its entry classes, its journal operations, its key in the
checksum content). None of them may appear in the code of a module outside ``reconciler/kinds/``:
not as an identifier, not in a string. Docstrings and comments may use the words (they explain,
they do not decide). The API side (the client ``reconciler/bss/`` and the emulator) speaks the
API's words: it may use the API's operation names and the plain words a kind id is made of
(``auto-renew`` in a business error, ``account-manager`` in a control-plane route), never a
kind's class, manifest kind or entry classes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.kinds import registry

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"
API_LAYERS = ("bss", "emulator")


def api_names() -> set[str]:
    """The API operations the kinds call or read: the API's names, not a kind's."""
    return {op.name for k in registry.KINDS for op in k.operations} | {
        read.api for k in registry.KINDS for read in k.reads
    }


def kind_names(api: bool) -> dict[str, str]:
    """Each name a kind owns -> the kind's id (on the API side, ``api``: without its id and the
    API's operation names)."""
    found: dict[str, str] = {}
    for kind in registry.KINDS:
        for name in {type(kind).__name__, kind.manifest_kind, kind.id, *kind.owns}:
            if not (api and name in {kind.id, *api_names()}):
                found[name] = kind.id
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def words_in(path: Path) -> Iterator[tuple[int, str]]:
    """(line, identifier or string) of every name and every non-docstring string in the code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.alias):
            yield line, node.asname or node.name.rpartition(".")[2]
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.arg):
            yield line, node.arg
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            yield line, node.value


def mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w])", text) is not None


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] != "kinds")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_outside_kinds_names_a_kind(path: Path) -> None:
    names = kind_names(api=path.relative_to(PACKAGE).parts[0] in API_LAYERS)
    found = sorted(
        f"line {line}: {name!r} (kind {kind})"
        for line, text in words_in(path)
        for name, kind in names.items()
        if mentions(text, name)
    )
    assert found == [], f"{path.name} names a kind; go through reconciler.kinds.registry"


def test_the_check_finds_a_kind_named_in_code(tmp_path: Path) -> None:
    """The scan sees names and strings, not docstrings or comments."""
    kind = registry.KINDS[0]
    module = tmp_path / "m.py"
    module.write_text(
        f'"""Docstrings may say {kind.manifest_kind}."""\n'
        f"# so may comments: {kind.id}\n"
        f"X = {{'kind': {kind.manifest_kind!r}}}\n"
        f"def f() -> str:\n    return 'see {kind.id}/NAME'\n",
        encoding="utf-8",
    )
    texts = [text for _, text in words_in(module)]
    assert [t for t in texts if mentions(t, kind.manifest_kind)] == [kind.manifest_kind]
    assert [t for t in texts if mentions(t, kind.id)] == [f"see {kind.id}/NAME"]
