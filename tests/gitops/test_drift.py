"""`reconciler drift` end to end through the CLI, drift made with the emulator's control plane."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.cli.workflow import compute_plan
from reconciler.plan.model import fingerprint
from reconciler.render.drift import DRIFT_MARKER

from .conftest import (
    EXAMPLES,
    IN_SYNC,
    KAIYUAN_01,
    REPO,
    TIANFU_QUOTA,
    XINGHE,
    XINGHE_WEB,
    Env,
)

SCHEMA = json.loads((REPO / "schemas" / "drift.schema.json").read_text(encoding="utf-8"))


def report(env: Env, manifests: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    result = env.run("drift", str(manifests), "--format", "json", *flags)
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    return result.exit_code, data


def by_subject(data: dict[str, Any], text: str) -> dict[str, Any]:
    (item,) = [i for i in data["items"] if text in i["subject"]]
    found: dict[str, Any] = item
    return found


def test_in_sync_is_exit_0(env: Env) -> None:
    result = env.run("drift", str(IN_SYNC))
    assert result.exit_code == 0, result.output
    assert "No drift. Live state matches the manifests" in result.stdout
    code, data = report(env, IN_SYNC)
    assert code == 0
    assert data["summary"]["in_sync"] is True
    assert data["items"] == [] and data["problems"] == []


def test_console_changes_are_drift_with_both_values_and_how_to_heal(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    emu = env.emulator()
    emu.set_account_manager(XINGHE, "li.na")
    emu.set_resource(KAIYUAN_01, expire_policy=0)
    emu.spend_quota(TIANFU_QUOTA, "1200.00")

    code, data = report(env, manifests)

    assert code == 2
    assert data["summary"]["drifted"] == 3
    assert (data["summary"]["healable"], data["summary"]["manual"]) == (2, 1)
    manager = by_subject(data, "xinghe-net")
    assert (manager["desired"], manager["live"]) == (
        {"account_manager": "zhang.wei"},
        {"account_manager": "li.na"},
    )
    assert (manager["healable"], manager["heal"]) == (False, "manual")
    assert "Partner Center" in manager["reason"]
    assert any("select zhang.wei" in n for n in manager["notes"])
    renew = by_subject(data, "kaiyuan-saas-01")
    assert renew["desired"] == {"auto_renew": True}
    assert renew["live"]["auto_renew"] is False and renew["live"]["status"] == "in use"
    assert (renew["healable"], renew["action"]) == (True, "enable")
    quota = by_subject(data, "tianfu-cloud")
    assert (quota["desired"]["balance"], quota["live"]["balance"]) == ("30000.00", "28800.00")
    assert quota["money"]["issue"] == "1200.00"
    assert quota["reason"] == "apply issues 1,200.00 CNY"
    assert quota["source"]["file"].endswith("in-sync.yaml")
    assert data["summary"]["money"]["issue"] == "1200.00"
    assert env.writes() == [], "drift never writes"


@pytest.mark.parametrize(
    ("status", "word"),
    [pytest.param(5, "expired", id="expired"), pytest.param(4, "frozen", id="frozen")],
)
def test_expired_or_frozen_resource_is_manual_drift(env: Env, status: int, word: str) -> None:
    manifests = env.manifests(IN_SYNC)
    env.emulator().set_resource(XINGHE_WEB, expire_policy=0, status=status)

    code, data = report(env, manifests)

    assert code == 2
    item = by_subject(data, "xinghe-web-01")
    assert item["status"] == "not-applicable"
    assert (item["healable"], item["heal"], item["action"]) == (False, "manual", None)
    assert item["desired"] == {"auto_renew": True}
    assert item["live"]["status"] == word
    assert f"the resource is {word}" in item["reason"]
    assert (data["summary"]["unreachable"], data["summary"]["manual"]) == (1, 1)
    assert data["summary"]["not_healable"] == 0


def test_customer_without_the_agency_is_manual_drift(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    emu = env.emulator()
    emu.set_resource(XINGHE_WEB, expire_policy=0)
    emu.set_agency(XINGHE, granted=False)

    _, data = report(env, manifests)

    item = by_subject(data, "xinghe-web-01")
    assert (item["healable"], item["heal"]) == (False, "manual")
    assert "has not granted this agency" in item["reason"]


def test_drift_is_the_plan_seen_from_the_other_side(env: Env) -> None:
    """Every change and not-applicable notice of the plan is a drift item, and nothing else."""
    plan = compute_plan([EXAMPLES])
    _, data = report(env, EXAMPLES)
    expected = [c.key for c in plan.changes]
    expected += [n.key for n in plan.notices if n.level == "not-applicable"]
    assert sorted(i["key"] for i in data["items"]) == sorted(expected)
    changes = {c.key: c for c in plan.changes}
    for item in data["items"]:
        if item["key"] in changes:
            assert item["fingerprint"] == changes[item["key"]].fingerprint
    heals: dict[str, set[str]] = {i["kind"]: set() for i in data["items"]}
    for item in data["items"]:
        heals[item["kind"]].add(item["heal"])
    assert heals == {
        "reseller-quota": {"apply"},
        "auto-renew": {"apply", "manual"},
        "account-manager": {"manual"},
        "account-funds": {"apply"},
        "customer-coupons": {"apply"},
    }


def test_guards_never_hide_drift(env: Env, tmp_path: Path) -> None:
    manifests = env.manifests(IN_SYNC)
    settings = manifests / "in-sync.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text.replace(
            "  agencyName: demo_distributor_platform",
            '  agencyName: demo_distributor_platform\n  guards: {maxIssuePerRun: "100.00"}',
        ),
        encoding="utf-8",
    )
    env.emulator().spend_quota(TIANFU_QUOTA, "1200.00")

    code, data = report(env, manifests)

    assert code == 2, "drift reports; a guard only matters to apply"
    assert data["summary"]["apply_possible"] is False
    assert [g["name"] for g in data["guards"]] == ["max-issue-per-run"]
    assert "guard max-issue-per-run" in env.run("drift", str(manifests)).stdout


def test_references_that_no_longer_resolve_are_drift_not_errors(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    path = manifests / "in-sync.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "{customer: mingyuan-design, manager: null}", "{customer: gone-away, manager: null}"
        ),
        encoding="utf-8",
    )

    code, data = report(env, manifests)

    assert code == 2
    (problem,) = data["problems"]
    assert "customer 'gone-away'" in problem["message"]
    assert problem["line"] > 1 and problem["file"].endswith("in-sync.yaml")
    assert data["summary"]["apply_possible"] is False
    github = env.run("drift", str(manifests), "--format", "github").stdout
    assert f"::error file={path},line={problem['line']}" in github


def test_invalid_manifests_are_an_error(env: Env) -> None:
    manifests = env.manifests(IN_SYNC)
    (manifests / "broken.yaml").write_text(
        "apiVersion: partner-reconciler/v1\nkind: AutoRenew\nmetadata: {name: x}\n"
        "spec: {customers: [{customer: a, autoRenew: no}]}\n",
        encoding="utf-8",
    )
    result = env.run("drift", str(manifests))
    assert result.exit_code == 1
    assert "broken.yaml:4" in result.stderr


def test_markdown_is_the_drift_issue_body(env: Env) -> None:
    out = env.run("drift", str(EXAMPLES), "--format", "markdown").stdout
    assert out.startswith(DRIFT_MARKER + "\n")
    assert "## partner-reconciler drift: 21 found" in out
    assert "| Healable by apply | Manual | Apply cannot reach | Broken references |" in out
    assert "| 16 | 3 | 2 | 0 |" in out
    assert "| `x` | huaxia-old-lms" in out and "off (expired)" in out
    assert "<details><summary>Partner Center steps</summary>" in out
    assert "### What to do" in out
    clean = env.run("drift", str(IN_SYNC), "--format", "markdown").stdout
    assert clean.startswith(DRIFT_MARKER + "\n## partner-reconciler drift: no drift")


def test_github_annotations_point_at_the_manifest_lines(env: Env) -> None:
    out = env.run("drift", str(EXAMPLES), "--format", "github").stdout
    lines = out.splitlines()
    assert sum(1 for line in lines if line.startswith("::warning file=")) == 21
    assert f"::warning file={EXAMPLES}/reseller-quotas.yaml,line=14,col=16," in out
    assert lines[-1].startswith(
        "Drift: 21 objects differ (16 healable by apply, 3 manual, 2 apply cannot reach)"
    )


def test_out_file_and_checksum_ignore_the_time(env: Env) -> None:
    result = env.run("drift", str(EXAMPLES), "--format", "text", "--out", "drift.json")
    assert result.exit_code == 2
    saved = json.loads((env.root / "drift.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(saved)
    assert (env.root / "drift.json").stat().st_mode & 0o077 == 0
    content = {
        k: v
        for k, v in saved.items()
        if k not in {"report", "tool_version", "created_at", "checksum"}
    }
    assert fingerprint(content) == saved["checksum"]
    _, again = report(env, EXAMPLES)
    assert again["checksum"] == saved["checksum"], "same drift, same checksum"
