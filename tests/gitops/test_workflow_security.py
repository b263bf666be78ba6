"""The security rules of the workflows (docs/gitops.md, "Threat model"): the write key pair only
in jobs of the protected environments, least-privilege tokens, actions pinned by commit, live
data never turned into workflow commands, a pinned reconciler, and shell scripts that lint."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO
from .workflows import ALL, NAMES, WORKFLOWS, scripts, secret_names, workflow

#: Secrets only deployment-environment jobs may read: the write pair, the shared journal's URL,
#: and the key that seals reviewed plans (whoever holds it can forge a plan apply accepts).
WRITE_PAIR = {
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "RECONCILER_JOURNAL_URL",
    "RECONCILER_PLAN_KEY",
}
READ_PAIR = {"HUAWEICLOUD_SDK_AK_READONLY", "HUAWEICLOUD_SDK_SK_READONLY"}
# Both restricted to deployments from main; partner-production also has required reviewers.
PROTECTED = {"partner-production", "partner-production-plan"}
# Triggers whose workflow file a pull request, a fork or a comment can choose.
UNTRUSTED_TRIGGERS = {"pull_request", "pull_request_target", "workflow_run", "issue_comment"}
PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s+(v\d+\.\d+\.\d+)$")


def triggers(wf: dict[str, Any]) -> set[str]:
    on = wf["on"]
    return {on} if isinstance(on, str) else set(on)


def write_pair_leaks(wf: dict[str, Any]) -> list[str]:
    """Every place where a job outside the protected environments could read the write pair."""
    problems = []
    if secret_names(wf.get("env", {})) & (WRITE_PAIR | {"*"}):
        problems.append("workflow env: a write-pair secret for every job")
    for name, job in wf["jobs"].items():
        used = secret_names(job)
        if "*" in used:
            problems.append(f"{name}: reads every secret (toJSON, a computed name or inherit)")
        used &= WRITE_PAIR
        if not used:
            continue
        environment = job.get("environment")
        if isinstance(environment, dict):
            environment = environment.get("name")
        if environment not in PROTECTED:
            problems.append(f"{name}: {sorted(used)} outside a protected environment")
        if triggers(wf) & UNTRUSTED_TRIGGERS:
            problems.append(f"{name}: {sorted(used)} in a workflow a pull request can edit")
    return problems


@pytest.mark.parametrize("name", ALL)
def test_no_job_outside_a_protected_environment_reads_the_write_pair(name: str) -> None:
    assert write_pair_leaks(workflow(name)) == []


def test_the_write_pair_is_read_by_the_apply_workflows_jobs_and_only_there() -> None:
    readers = {
        (name, job)
        for name in ALL
        for job, spec in workflow(name)["jobs"].items()
        if secret_names(spec) & WRITE_PAIR
    }
    assert readers == {("apply.yml", "plan"), ("apply.yml", "apply")}
    for name in ("plan.yml", "drift.yml"):
        assert secret_names(workflow(name)) == READ_PAIR, name


def _edit(name: str, job: str, **changes: Any) -> dict[str, Any]:
    wf = copy.deepcopy(workflow(name))
    wf["jobs"][job].update(changes)
    return wf


WRITE_ENV = {"HUAWEICLOUD_SDK_AK": "${{ secrets.HUAWEICLOUD_SDK_AK }}"}
ATTACKS = {
    "pr plan with the write pair": _edit(
        "plan.yml", "plan", steps=[{"run": "reconciler plan manifests", "env": WRITE_ENV}]
    ),
    "pr plan naming the plan environment": _edit(
        "plan.yml",
        "plan",
        environment="partner-production-plan",
        steps=[{"run": "reconciler plan manifests", "env": WRITE_ENV}],
    ),
    "drift with every secret": _edit(
        "drift.yml", "drift", steps=[{"run": "true", "env": {"ALL": "${{ toJSON(secrets) }}"}}]
    ),
    "index syntax": _edit(
        "drift.yml",
        "drift",
        steps=[{"run": "true", "env": {"K": "${{ secrets['HUAWEICLOUD_SDK_SK'] }}"}}],
    ),
    "computed name": _edit(
        "drift.yml",
        "drift",
        steps=[{"run": "true", "env": {"K": "${{ secrets[format('A{0}', 'K')] }}"}}],
    ),
    "environment from an input": _edit("apply.yml", "apply", environment="${{ inputs.env }}"),
    "reusable workflow inheriting secrets": _edit("drift.yml", "budget", secrets="inherit"),
    "job env": _edit(
        "drift.yml",
        "drift",
        env={"RECONCILER_JOURNAL_URL": "${{ secrets.RECONCILER_JOURNAL_URL }}"},
    ),
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
def test_the_write_pair_checker_catches_an_attackers_edit(attack: str) -> None:
    assert write_pair_leaks(ATTACKS[attack]), attack


def test_the_write_pair_checker_catches_it_at_workflow_level() -> None:
    wf = copy.deepcopy(workflow("ci.yml"))
    wf["env"] = {"HUAWEICLOUD_SDK_SK": "${{ secrets.HUAWEICLOUD_SDK_SK }}"}
    assert write_pair_leaks(wf)


@pytest.mark.parametrize("name", ALL)
def test_least_privilege_tokens(name: str) -> None:
    """Nothing at workflow level beyond `contents: read`; every job says what it needs and why."""
    wf = workflow(name)
    assert wf.get("permissions") in ({"contents": "read"}, {}), name
    for job_name, job in wf["jobs"].items():
        assert "permissions" in job, f"{name}:{job_name} inherits the workflow's token"
    lines = (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        grant = re.match(r"^ {6}([a-z-]+): (read|write)\b", line)
        if grant:
            assert "#" in line, f"{name}:{number}: say why the job needs {line.strip()}"


@pytest.mark.parametrize("name", ALL)
def test_actions_are_pinned_by_commit_with_their_version(name: str) -> None:
    for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line) and "$/" not in line:
            assert PIN.match(line), f"{name}: not pinned by full commit SHA + version: {line}"


def test_one_commit_per_action_version_across_the_workflows() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for name in ALL:
        for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
            match = PIN.match(line)
            if match:
                repo = "/".join(match.group(1).split("/")[:2])  # actions/cache/save -> cache
                pins.setdefault(repo, set()).add((match.group(2), match.group(3)))
    for repo, found in pins.items():
        assert len(found) == 1, f"{repo} is pinned to {sorted(found)}: one version everywhere"


def test_dependabot_keeps_actions_and_python_dependencies_fresh() -> None:
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert {"github-actions", "pip"} <= set(ecosystems)
    assert all(u["directory"] == "/" for u in ecosystems.values())


@pytest.mark.parametrize("name", ALL)
def test_no_expression_is_expanded_inside_a_script(name: str) -> None:
    for where, script in scripts(name):
        assert "${{" not in script, f"{where}: pass it through env: (template injection)"


LIVE = re.compile(r"^\s*reconciler (plan|apply|drift)\b", re.M)


@pytest.mark.parametrize("name", NAMES)
def test_live_data_never_becomes_a_workflow_command(name: str) -> None:
    """The output of plan, apply and drift names third parties' objects: it runs between
    ::stop-commands:: and its resume token, and no step turns it into annotations (issue 10)."""
    for where, script in scripts(name):
        assert not re.search(r"\b(sed|awk)\b", script), f"{where}: rewrites output with sed/awk"
        assert "file=" not in script, f"{where}: builds file annotations in shell"
        for match in LIVE.finditer(script):
            before, after = script[: match.start()], script[match.end() :]
            assert "secrets.token_hex(16)" in before, where
            assert 'echo "::stop-commands::$token"' in before, where
            assert 'echo "::$token::"' in after, where


def test_one_pinned_release_of_the_reconciler() -> None:
    versions = {
        workflow(n)["env"]["RECONCILER_VERSION"] for n in ("plan.yml", "apply.yml", "drift.yml")
    }
    assert len(versions) == 1
    (version,) = versions
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    for name in ALL:
        text = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert "git+" not in text and "RECONCILER_PACKAGE" not in text, name
        for line in text.splitlines():
            if "pip install" in line and "partner-reconciler" in line:
                assert '"partner-reconciler==$RECONCILER_VERSION"' in line, f"{name}: {line}"


SHELLCHECK = Path(sys.executable).parent / "shellcheck"


@pytest.mark.parametrize("where", [w for n in ALL for w, _ in scripts(n)])
def test_every_script_passes_shellcheck(where: str) -> None:
    """What actionlint would run (actionlint itself installs only by downloading a binary)."""
    script = dict(s for n in ALL for s in scripts(n))[where]
    done = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--severity=style", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{where}\n{done.stdout}{done.stderr}"
