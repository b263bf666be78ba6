"""Guards stop a plan with exit 3, naming the guard, the value, the limit and the flag."""

from __future__ import annotations

import pytest

from .conftest import EXAMPLES, Env

TIGHT = """apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  agencyName: demo_distributor_platform
  accountManagers: [zhang.wei, li.na, wang.fang, chen.jie]
  guards:
    maxIssuePerRun: "50000.00"
    maxIssuePerReseller: "20000.00"
    maxReclaimsPerRun: 0
    maxChangePercent: 10
"""


@pytest.fixture
def tight(env: Env) -> Env:
    env.copy_examples()
    env.write("settings.yaml", TIGHT)
    return env


def test_tripped_guards_block_with_exit_3(tight: Env) -> None:
    result = tight.run("plan", "manifests")
    assert result.exit_code == 3, result.output
    out = result.stdout
    assert (
        "guard max-issue-per-run: 55000.00 against a limit of 50000.00 (issued by this run): "
        "BLOCKED; to proceed anyway, pass --allow max-issue-per-run"
    ) in out
    assert "guard max-issue-per-reseller: 23000.00 against a limit of 20000.00" in out
    assert "(to reseller 481e93b261dc952c7eebe1950ebb9fa6)" in out
    assert "guard max-reclaims-per-run: 1 reclaims against a limit of 0" in out
    assert "guard max-change-percent: 25.00% against a limit of 10%" in out
    assert "(account-manager: 3 of 12 managed objects change)" in out


def test_allow_lets_the_named_guards_pass(tight: Env) -> None:
    flags = ["--allow", "max-issue-per-run", "--allow", "max-issue-per-reseller"]
    result = tight.run("plan", "manifests", *flags)
    assert result.exit_code == 3, "two guards still trip"
    flags += ["--allow", "max-reclaims-per-run", "--allow", "max-change-percent"]
    result = tight.run("plan", "manifests", *flags, "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert "overridden" not in result.stdout.split("Guards")[0]


def test_guard_status_is_in_the_markdown_and_json(tight: Env) -> None:
    md = tight.run("plan", "manifests", "--format", "markdown").stdout
    assert "## partner-reconciler plan: 🛑 blocked by a guard" in md
    assert "- ❌ guard max-issue-per-run" in md
    assert '"blocked": true' in tight.run("plan", "manifests", "--format", "json").stdout


def test_default_guards_pass_the_examples(env: Env) -> None:
    result = env.run("plan", str(EXAMPLES), "--format", "markdown")
    assert "**Guards:** all passed." in result.stdout
