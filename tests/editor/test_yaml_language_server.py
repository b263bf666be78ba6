"""Editor support for every document: the real YAML language server (1.25, from npm) validates
each document of a file through its modeline and the union schema (manifest.schema.json), for
the examples and for what export writes, and agrees with `reconciler validate` on the line.

The language server reads a modeline per YAML document, so every document carries one (a
modeline at the top of a file covers its first document only).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from reconciler.kinds import registry
from tests.cli_env import EXAMPLES, IN_SYNC, REPO, Env, env
from tests.editor.lsp import Diagnostic, diagnostics, installed_server

__all__ = ["env"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="needs node and npm (the YAML language server is a node program)",
    ),
]

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


@pytest.fixture(scope="module")
def server() -> Path:
    return installed_server()


def workspace(tmp_path: Path) -> Path:
    """A copy of examples/ and schemas/ in their places, to break documents in."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copytree(REPO / "schemas", root / "schemas")
    return root


def lines(found: list[Diagnostic]) -> set[int]:
    return {d.line for d in found}


def test_every_document_of_the_examples_has_the_union_modeline() -> None:
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        if path.name == "emulator-seed.yaml":
            continue
        docs = path.read_text(encoding="utf-8").split("\n---\n")
        for doc in docs:
            first = MODELINE.match(doc.splitlines()[0])
            assert first, f"{path}: a document without a modeline on its first line"
            schema = (path.parent / first.group(1)).resolve()
            assert schema == REPO / "schemas" / "manifest.schema.json", path


def test_the_examples_have_no_diagnostics(server: Path) -> None:
    files = [p for p in sorted((REPO / "examples").rglob("*.yaml")) if "seed" not in p.name]
    found = diagnostics(server, REPO, files)
    assert found == {f: [] for f in files}


def test_a_broken_second_document_is_reported(server: Path, tmp_path: Path, env: Env) -> None:
    root = workspace(tmp_path)
    quotas = root / "examples" / "manifests" / "reseller-quotas.yaml"
    text = quotas.read_text(encoding="utf-8")
    assert text.count('balance: "8000.00"') == 1
    quotas.write_text(text.replace('balance: "8000.00"', "balance: 8000.00"), encoding="utf-8")
    in_sync = root / "examples" / "in-sync" / "in-sync.yaml"
    text = in_sync.read_text(encoding="utf-8")
    for good, bad in (
        ("      autoRenew: true", "      autoRenew: yes"),  # document 2
        ('balance: "18500.00"', "balance: 18500.00"),  # document 3
        ("  agencyName: demo_distributor_platform\n", "  planTtl: 2 hours\n"),  # document 4
    ):
        assert text.count(good) == 1, good
        text = text.replace(good, bad)
    in_sync.write_text(text, encoding="utf-8")

    found = diagnostics(server, root, [quotas, in_sync])

    expected: dict[Path, set[int]] = {}
    for path in (quotas, in_sync):
        ours = json.loads(env.run("validate", str(path), "--format", "json").stdout)
        expected[path] = {problem["line"] for problem in ours["problems"]}
    assert len(expected[quotas]) == 1 and len(expected[in_sync]) == 3, expected
    assert lines(found[quotas]) == expected[quotas], found[quotas]
    assert lines(found[in_sync]) == expected[in_sync], found[in_sync]
    assert any('Expected "string"' in d.message for d in found[quotas])


def test_what_export_writes_validates_in_the_editor(
    server: Path, tmp_path: Path, env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_AGENCY_NAME", "demo_distributor_platform")
    root = workspace(tmp_path)
    result = env.run("export", str(root / "adopted"))
    assert result.exit_code == 0, result.output
    files = sorted((root / "adopted").glob("*.yaml"))
    assert len(files) == len(list(registry.with_exports())) + 1  # every kind's, and Settings
    for path in files:
        first = MODELINE.match(path.read_text(encoding="utf-8").splitlines()[0])
        assert first and first.group(1) == "../schemas/manifest.schema.json", path
    assert diagnostics(server, root, files) == {f: [] for f in files}

    quotas = root / "adopted" / "reseller-quotas.yaml"
    text = quotas.read_text(encoding="utf-8")
    head, sep, second = text.partition("\n---\n")
    assert sep, "the demo account has two distributor quotas: two documents"
    second = second.replace("kind: ResellerQuota", "kind: ResellerQuota\nextra: 1", 1)
    quotas.write_text(head + sep + second, encoding="utf-8")
    (broken,) = diagnostics(server, root, [quotas])[quotas]
    # head's lines, then `---`, the modeline, apiVersion, kind and `extra:` of document 2
    assert broken.line == head.count("\n") + 1 + 5, broken
    assert "extra" in broken.message


def test_the_in_sync_example_is_still_in_sync(env: Env) -> None:
    """The modelines are comments: they change no manifest's meaning."""
    assert env.run("plan", str(IN_SYNC), "--detailed-exitcode").exit_code == 0
    assert env.run("validate", str(EXAMPLES)).exit_code == 0
