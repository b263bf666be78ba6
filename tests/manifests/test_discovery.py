"""Which files and documents are manifests, and what the loader hands out."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from reconciler.errors import ManifestError, SourcePosition
from reconciler.manifests.loader import Document, load_documents, load_paths

GOOD = Path(__file__).parent / "good"
REPO = Path(__file__).parents[2]
QUOTA = """\
apiVersion: partner-reconciler/v1
kind: ResellerQuota
metadata:
  name: {name}
spec:
  distributorQuota: "QT1"
  resellers:
    - reseller: north
      balance: "1.00"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(paths: list[str | Path]) -> list[str]:
    return [str(p) for p in load_documents(paths).problems]


def test_good_directory_loads_every_kind_in_sorted_file_order() -> None:
    documents = load_paths([GOOD])
    assert [(Path(d.file).name, d.kind) for d in documents] == [
        ("account-managers.yaml", "AccountManagers"),
        ("auto-renew.yaml", "AutoRenew"),
        ("reseller-quota.yaml", "ResellerQuota"),
        ("settings.yaml", "Settings"),
    ]


def test_a_seed_beside_the_manifests_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "quotas.yaml", QUOTA.format(name="q"))
    write(tmp_path / "emulator-seed.yaml", "version: 1\npartner: {account_name: demo}\n")
    seed = REPO / "examples" / "emulator-seed.yaml"
    if seed.exists():
        shutil.copy(seed, tmp_path / "examples-emulator-seed.yaml")
    result = load_documents([tmp_path])
    assert result.problems == ()
    assert [Path(d.file).name for d in result.documents] == ["quotas.yaml"]


def test_hidden_directories_and_other_suffixes_are_not_read(tmp_path: Path) -> None:
    write(tmp_path / "q.yml", QUOTA.format(name="q"))
    write(tmp_path / ".github" / "ci.yaml", "a: &x 1\nb: *x\n")
    write(tmp_path / "notes.txt", "apiVersion: partner-reconciler/v1\n")
    assert [Path(d.file).name for d in load_paths([tmp_path])] == ["q.yml"]


def test_a_named_file_must_hold_manifests(tmp_path: Path) -> None:
    seed = write(tmp_path / "seed.yaml", "version: 1\n")
    assert messages([seed]) == [
        f"{seed.as_posix()}:1:1: no manifests in this file: "
        "no document has apiVersion: partner-reconciler/v1"
    ]


def test_unreadable_yaml_is_reported_only_if_it_mentions_us(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "good.yaml", QUOTA.format(name="q"))
    write(tmp_path / "other.yaml", "a: [1,\n")
    broken = write(tmp_path / "ours.yaml", "apiVersion: partner-reconciler/v1\nkind: [\n")
    with caplog.at_level(logging.WARNING, logger="reconciler.manifests.loader"):
        problems = messages([tmp_path])
    assert len(problems) == 1
    assert problems[0].startswith(f"{broken.as_posix()}:3:1: YAML syntax error")
    assert "other.yaml: skipped: not valid YAML and not a manifest" in caplog.text


def test_a_typo_in_api_version_does_not_hide_a_manifest(tmp_path: Path) -> None:
    write(tmp_path / "q.yaml", QUOTA.format(name="q").replace("partner-reconciler/v1", "v1"))
    [problem] = messages([tmp_path])
    assert problem.endswith(
        "apiVersion: 'v1' is not a supported apiVersion (use partner-reconciler/v1)"
    )


@pytest.mark.parametrize(
    ("paths", "fragment"),
    [
        ([], ".:1:1: no manifest files or directories given"),
        (["missing.yaml"], "missing.yaml:1:1: no such file or directory"),
        (["empty-dir"], "empty-dir:1:1: no *.yaml or *.yml files in this directory"),
    ],
)
def test_path_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths: list[str | Path], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty-dir").mkdir()
    assert messages(paths) == [fragment]


def test_the_same_file_twice_is_read_once(tmp_path: Path) -> None:
    quota = write(tmp_path / "q.yaml", QUOTA.format(name="q"))
    assert len(load_paths([quota, tmp_path, quota])) == 1


def test_empty_documents_and_a_bom_are_fine(tmp_path: Path) -> None:
    text = "---\n---\n" + QUOTA.format(name="q") + "---\n# nothing\n---\n"
    quota = tmp_path / "q.yaml"
    quota.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [doc] = load_paths([quota])
    assert (doc.index, doc.kind, doc.name) == (1, "ResellerQuota", "q")


def test_load_paths_raises_every_problem_sorted(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", "apiVersion: partner-reconciler/v1\nkind: X\nx: &a 1\n")
    write(tmp_path / "a.yaml", "apiVersion: partner-reconciler/v1\na: 1\na: 2\n")
    with pytest.raises(ManifestError) as caught:
        load_paths([tmp_path])
    lines = [(Path(p.position.file).name, p.position.line) for p in caught.value.problems]
    assert lines == [("a.yaml", 3), ("b.yaml", 3)]
    assert str(caught.value).endswith("2 manifest problems found.")


def test_document_positions_fall_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    [doc] = load_paths([write(tmp_path / "q.yaml", QUOTA.format(name="q"))])
    file = doc.file
    assert isinstance(doc, Document)
    assert doc.pos(("spec", "resellers", 0, "balance")) == SourcePosition(file, 9, 16)
    assert doc.pos(("spec", "resellers", 0, "nothing", 3)) == SourcePosition(file, 8, 7)
    assert doc.key_pos(("spec", "resellers", 0, "balance")) == SourcePosition(file, 9, 7)
    assert doc.key_pos(("spec", "resellers", 0)) == SourcePosition(file, 8, 7)
    assert doc.start == SourcePosition(file, 1, 1)
    assert doc.label == "ResellerQuota 'q'"
