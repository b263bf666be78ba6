"""Export never fails on a name, never leaves half-written files, and adopts accounts whose
resellers hold no quota."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import DEMO_SEED_PATH, Emulator
from reconciler.emulator.seed import load_document
from reconciler.errors import ConfigError
from reconciler.gitops import export as export_module

from .conftest import XINGHE, Env
from .test_export import ALL_FILES, agency, assert_no_changes, exported

__all__ = ["agency"]  # autouse here too: the agency name is configuration, never read from the API

DEMO: dict[str, Any] = load_document(DEMO_SEED_PATH)
TIANFU = "481e93b261dc952c7eebe1950ebb9fa6"


def seeded(env: Env, doc: dict[str, Any]) -> None:
    Emulator(state_file=env.state_file, seed=doc)


def with_names(customer: str, manager: str | None = None, reseller: str | None = None) -> Any:
    doc = copy.deepcopy(DEMO)
    found = next(c for c in doc["customers"] if c["customer_id"] == XINGHE)
    found["account_name"] = customer
    if manager is not None:
        doc["account_managers"].append({"account_name": manager, "name": "x"})
        found["account_manager"] = manager
    if reseller is not None:
        next(r for r in doc["resellers"] if r["indirect_partner_id"] == TIANFU)["account_name"] = (
            reseller
        )
    return doc


@pytest.mark.parametrize(
    "name",
    [
        "xinghe\x9bnet",  # the case: C1 CSI made export fail and leave files behind
        "\x1b[2Jclear",
        "a\u202eb",
        "nel\x85ls\u2028",
        "tab\there",
        'quote"back\\slash',
        "##[error]x",
        "::error::x",
        "\ufeffbom",
        "x" * 64,
        "x" * 65,
        "two words",
    ],
    ids=repr,
)
def test_any_customer_or_reseller_name_exports_and_plans_no_changes(env: Env, name: str) -> None:
    seeded(env, with_names(name, reseller=name + "-r"))
    directory = exported(env)
    assert_no_changes(env, directory)
    text = (directory / "account-managers.yaml").read_text(encoding="utf-8")
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text


@pytest.mark.parametrize("manager", ["two words", "m" * 65, "tab\tmanager"], ids=repr)
def test_a_manager_name_a_manifest_cannot_hold_is_left_out_with_a_warning(
    env: Env, manager: str
) -> None:
    seeded(env, with_names("xinghe-net", manager=manager))
    result = env.run("export", "adopted")
    assert result.exit_code == 0, result.output
    assert f"customer {XINGHE}: its account manager" in result.stderr
    assert "left out of account-managers.yaml (unmanaged)" in result.stderr
    assert_no_changes(env, env.root / "adopted")


def test_resellers_without_quota_export_fine(env: Env) -> None:
    doc = copy.deepcopy(DEMO)
    doc["issued_quotas"], doc["records"] = [], []
    for quota in doc["quotas"]:
        quota["balance"] = quota["quota_value"]
    seeded(env, doc)
    directory = exported(env)
    assert sorted(p.name for p in directory.iterdir()) == ALL_FILES
    quotas = (directory / "reseller-quotas.yaml").read_text(encoding="utf-8")
    assert "# No reseller holds quota issued from your distributor quotas." in quotas
    assert_no_changes(env, directory)


def test_nothing_is_left_when_the_exported_files_do_not_validate(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = env.root / "adopted"
    directory.mkdir()
    (directory / "settings.yaml").write_text("# mine\n", encoding="utf-8")
    real = export_module.render_files  # type: ignore[attr-defined]

    def broken(*args: Any, **kwargs: Any) -> Any:
        files = real(*args, **kwargs)
        text, what = files["auto-renew.yaml"]
        files["auto-renew.yaml"] = (text + "  bogus: [\n", what)
        return files

    monkeypatch.setattr(export_module, "render_files", broken)
    result = env.run("export", "adopted", "--force")
    assert result.exit_code == 1
    assert "the exported manifests do not validate" in result.stderr
    assert "nothing was written" in result.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["settings.yaml"]
    assert (directory / "settings.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_exported_files_are_private_and_not_written_through_links(env: Env) -> None:
    directory = env.root / "adopted"
    directory.mkdir()
    victim = env.root / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    victim.chmod(0o644)
    (directory / "settings.yaml").symlink_to(victim)
    (directory / "settings.yaml.tmp").symlink_to(victim)
    result = env.run("export", "adopted", "--force")
    assert result.exit_code == 0, result.output
    assert victim.read_text(encoding="utf-8") == "keep"
    assert victim.stat().st_mode & 0o777 == 0o644
    settings = directory / "settings.yaml"
    assert not settings.is_symlink()
    assert settings.stat().st_mode & 0o777 == 0o600
    assert not any(p.name.startswith(".staging") for p in directory.iterdir())


def test_write_files_refuses_a_name_that_is_a_path(tmp_path: Path) -> None:
    from reconciler.files import write_files

    with pytest.raises(ConfigError, match="not a plain file name"):
        write_files(tmp_path, {"../escape.yaml": "x"})
    assert not (tmp_path.parent / "escape.yaml").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_link_where_export_writes_is_refused_without_force(env: Env) -> None:
    directory = env.root / "adopted"
    directory.mkdir()
    victim = env.root / "victim.yaml"
    victim.write_text("keep", encoding="utf-8")
    (directory / "settings.yaml").symlink_to(victim)
    result = env.run("export", "adopted")
    assert result.exit_code == 1
    assert "is a symbolic link" in result.stderr and "--force" in result.stderr
    assert victim.read_text(encoding="utf-8") == "keep"
    assert (directory / "settings.yaml").is_symlink()
    assert sorted(p.name for p in directory.iterdir()) == ["settings.yaml"]
