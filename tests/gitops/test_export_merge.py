"""`reconciler export` into a directory of manifests merges: it never drops a hand-written field
or line, never shrinks the Settings roster, and --force replaces only export's own files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.manifests.load import load_desired

from .conftest import EXAMPLES, Env

HAND_SETTINGS = """# yaml-language-server: $schema=../schemas/manifest.schema.json
# Our settings: written by hand, reviewed by finance.
apiVersion: partner-reconciler/v1
kind: Settings
metadata:
  name: settings
spec:
  agencyName: demo_distributor_platform   # the agency customers grant
  accountManagers: [zhang.wei, li.na, wang.fang, chen.jie]
  guards:
    maxIssuePerRun: "100000.00"
  planTtl: 2h                              # the reviewers' working day
"""


@pytest.fixture(autouse=True)
def agency(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILER_AGENCY_NAME", "demo_distributor_platform")


def export(env: Env, directory: Path, *args: str) -> str:
    result = env.run("export", str(directory), *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_hand_written_settings_file_keeps_every_field(env: Env) -> None:
    """The reported case: `export DIR --kind ... --force` dropped planTtl and shrank the roster
    to one manager."""
    directory = env.root / "manifests"
    directory.mkdir()
    (directory / "settings.yaml").write_text(HAND_SETTINGS, encoding="utf-8")
    out = export(env, directory, "--kind", "auto-renew", "--customer", "xinghe-net", "--force")
    assert (directory / "settings.yaml").read_text(encoding="utf-8") == HAND_SETTINGS
    assert "settings.yaml" in out and "unchanged" in out
    settings = load_desired([directory]).settings
    assert settings.plan_ttl.total_seconds() == 7200
    assert set(settings.account_managers) == {"zhang.wei", "li.na", "wang.fang", "chen.jie"}


@pytest.mark.parametrize(
    ("roster", "expected"),
    [
        pytest.param(
            "  accountManagers: [zhang.wei]   # so far\n",
            "  accountManagers: [zhang.wei, chen.jie, li.na, wang.fang]   # so far\n",
            id="flow",
        ),
        pytest.param(
            "  accountManagers:\n    - zhang.wei\n",
            "  accountManagers:\n    - zhang.wei\n    - chen.jie\n    - li.na\n    - wang.fang\n",
            id="block",
        ),
        pytest.param(
            "",
            "  accountManagers: [chen.jie, li.na, wang.fang, zhang.wei]\n",
            id="absent",
        ),
    ],
)
def test_the_roster_only_grows_and_the_rest_stays(env: Env, roster: str, expected: str) -> None:
    directory = env.root / "manifests"
    directory.mkdir()
    text = (
        "apiVersion: partner-reconciler/v1\nkind: Settings\nmetadata: {name: s}\nspec:\n"
        f"  planTtl: 3h\n{roster}"
    )
    (directory / "config.yaml").write_text(text, encoding="utf-8")
    out = export(env, directory, "--kind", "account-manager")
    merged = (directory / "config.yaml").read_text(encoding="utf-8")
    assert merged.startswith("apiVersion: partner-reconciler/v1\nkind: Settings\n")
    assert expected in merged
    assert "  planTtl: 3h\n" in merged
    assert "agencyName: demo_distributor_platform" in merged, "added because it was missing"
    assert not (directory / "settings.yaml").exists(), "one Settings document, where it was"
    assert "config.yaml" in out and "merged" in out
    managers = load_desired([directory]).settings.account_managers
    assert set(managers) == {"zhang.wei", "li.na", "wang.fang", "chen.jie"}


def test_hand_written_entries_stay_and_new_ones_are_appended(env: Env) -> None:
    directory = env.root / "manifests"
    shutil.copytree(EXAMPLES, directory)
    before = {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()}
    out = export(env, directory, "--force")
    for name, text in before.items():
        now = (directory / name).read_text(encoding="utf-8")
        assert now.startswith(text.rstrip("\n")), f"{name}: a hand-written byte changed"
    managers = (directory / "account-managers.yaml").read_text(encoding="utf-8")
    appended = managers[len(before["account-managers.yaml"]) :]
    assert "# Added by `reconciler export`" in appended
    assert "name: account-managers-exported" in appended
    assert "xinghe-net" not in appended, "declared already: left as the manifest says"
    assert "mingyuan-design" in appended, "live, undeclared: appended"
    assert "--force replaces only export's own" in out
    desired = load_desired([directory])
    assert len(desired.entries_of("account-manager")) == 25
    # what was declared by hand still differs from live; what was appended does not
    plan = env.run("plan", str(directory))
    assert "Plan: 19 changes" in plan.stdout, plan.output


def test_force_replaces_only_files_export_wrote_and_nobody_edited(env: Env) -> None:
    directory = env.root / "adopted"
    export(env, directory)
    edited = directory / "auto-renew.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    env.emulator().set_account_manager("ed0e5914c5e5fc0a8a8d3bcc812f2330", "li.na")  # xinghe

    out = export(env, directory, "--force")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "replaced" in lines["account-managers.yaml"]
    assert "export wrote it and nobody edited it" in lines["account-managers.yaml"]
    assert "unchanged" in lines["auto-renew.yaml"]
    assert edited.read_text(encoding="utf-8").endswith("# reviewed\n")
    managers = (directory / "account-managers.yaml").read_text(encoding="utf-8")
    assert "{customer: xinghe-net, manager: li.na}" in managers

    again = export(env, directory)
    assert "account-managers.yaml  unchanged" in again, "without --force: never replaced"


def test_a_directory_whose_manifests_do_not_validate_is_refused(env: Env) -> None:
    directory = env.root / "manifests"
    directory.mkdir()
    broken = directory / "broken.yaml"
    broken.write_text(
        "apiVersion: partner-reconciler/v1\nkind: Settings\nmetadata: {name: s}\n"
        "spec: {planTtl: soon}\n",
        encoding="utf-8",
    )
    result = env.run("export", str(directory))
    assert result.exit_code == 1
    assert "do not validate; export merges into them, so fix them first" in result.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["broken.yaml"]


def test_export_says_when_the_agency_name_is_missing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_AGENCY_NAME")
    out = export(env, env.root / "adopted", "--kind", "auto-renew")
    assert "Next: set spec.agencyName in the Settings" in out
