"""The GitHub workflows: every `reconciler` command they run exists with those flags, and the
safety properties docs/gitops.md promises hold (concurrency, permissions, secrets)."""

from __future__ import annotations

import json
import re

import click
import pytest

from reconciler.cli import main
from reconciler.render.drift import DRIFT_MARKER
from reconciler.render.formats import COMMENT_MARKER

from .conftest import EXAMPLES, REPO, Env
from .workflows import (
    NAMES,
    SECRET,
    WORKFLOWS,
    reconciler_commands,
    scripts,
    simple_commands,
    steps,
    workflow,
)

REAL_ENDPOINT = "${{ vars.RECONCILER_ENDPOINT || 'https://bss.myhuaweicloud.com' }}"


def option_names(command: click.Command) -> dict[str, click.Option]:
    names: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                names[opt] = param
    return names


def resolve(argv: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command ``argv`` runs and the words after its name."""
    command: click.Command = main
    rest = argv[1:]
    while isinstance(command, click.Group):
        global_opts = option_names(command)
        eager = False
        while rest and rest[0].startswith("-"):
            name = rest[0].split("=")[0]
            assert name in {*global_opts, "--help", "-h"}, rest[0]
            eager = eager or name in ("--help", "-h") or global_opts[name].is_eager
            rest = rest[1:]
        if not rest and eager:
            return command, []  # `reconciler --version`
        assert rest, f"{argv}: no subcommand"
        sub = command.commands.get(rest[0])
        assert sub is not None, f"`reconciler {rest[0]}` does not exist"
        command, rest = sub, rest[1:]
    return command, rest


COMMANDS = reconciler_commands()


def test_the_workflows_run_reconciler_commands() -> None:
    run = {" ".join(words[:2]) for _, words in COMMANDS}
    assert {"reconciler validate", "reconciler plan", "reconciler apply", "reconciler drift"} <= run


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_each_command_and_flag_exists(where: str, argv: list[str]) -> None:
    check(where, argv)


@pytest.mark.parametrize(
    "line",
    [
        "reconciler plam manifests/",
        "reconciler plan manifests/ --detailed-exit-code",
        "reconciler drift manifests/ --format html",
        "reconciler plan manifests/ --out",
        "reconciler --verbose plan manifests/",
    ],
)
def test_the_checker_catches_mistakes(line: str) -> None:
    (argv,) = list(simple_commands(line))
    with pytest.raises(AssertionError):
        check("test", argv)


def check(where: str, argv: list[str]) -> None:
    """Assert that ``argv`` names an existing command and uses only its options, well formed."""
    command, rest = resolve(argv)
    options = option_names(command)
    flags = [w for w in rest if w.startswith("-")]
    for i, word in enumerate(rest):
        if not word.startswith("--"):
            continue
        name, _, inline = word.partition("=")
        assert name in options or name == "--help", f"{where}: {argv[1]} has no option {name}"
        param = options.get(name)
        if param is None or param.is_flag:
            continue
        value = inline or (rest[i + 1] if i + 1 < len(rest) else "")
        assert value and not value.startswith("--"), f"{where}: {name} needs a value"
        if isinstance(param.type, click.Choice) and not value.startswith("$"):
            assert value in param.type.choices, f"{where}: {name} {value}"
    assert flags == [f for f in flags if f.startswith("--")], "long options only, for readers"


def test_command_parser_handles_continuations_and_redirections() -> None:
    script = 'set +e\nreconciler plan "$MANIFESTS" --out plan.json \\\n  > plan.md 2> err; rc=$?\n'
    assert list(simple_commands(script)) == [
        ["set", "+e"],
        ["reconciler", "plan", "$MANIFESTS", "--out", "plan.json"],
        ["rc=$?"],
    ]


def test_ci_runs_the_readme_test_command() -> None:
    wf = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    runs = [step["run"].strip() for _, step in steps(wf) if "run" in step]
    assert "make test" in runs
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = REPO / "README.md"
    if readme.exists():
        assert "make test" in readme.read_text(encoding="utf-8")


def test_plan_comments_and_uploads_on_pull_requests() -> None:
    wf = workflow("plan.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert "manifests/**" in wf["on"]["pull_request"]["paths"]
    assert wf["permissions"] == {"contents": "read"}
    assert wf["jobs"]["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert wf["concurrency"]["cancel-in-progress"] is True
    text = (WORKFLOWS / "plan.yml").read_text(encoding="utf-8")
    assert COMMENT_MARKER in text, "finds its sticky comment by the renderer's marker"
    assert "updateComment" in text and "createComment" in text
    uploads = [s for _, s in steps(wf) if str(s.get("uses", "")).startswith("actions/upload-art")]
    assert uploads and "plan.json" in uploads[0]["with"]["path"]
    argv = {" ".join(w) for where, w in COMMANDS if where.startswith("plan.yml")}
    assert "reconciler validate $MANIFESTS --format github" in argv


def test_the_comment_footer_names_the_pull_requests_head_commit() -> None:
    """Not `context.sha`: for a pull request that is the merge commit GitHub made."""
    (comment,) = [s for _, s in steps(workflow("plan.yml")) if "createComment" in str(s)]
    assert comment["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    assert "process.env.HEAD_SHA.slice(0, 7)" in comment["with"]["script"]
    assert "context.sha" not in comment["with"]["script"]


def test_apply_runs_one_at_a_time_behind_an_environment() -> None:
    wf = workflow("apply.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in wf["on"]
    assert "apply" in wf["concurrency"]["group"]
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert wf["permissions"] == {"contents": "read"}
    assert wf["jobs"]["plan"]["environment"] == "partner-production-plan"
    apply_job = wf["jobs"]["apply"]
    assert apply_job["environment"] == "partner-production"
    assert apply_job["needs"] == "plan"
    assert apply_job["permissions"] == {"contents": "read", "actions": "read"}
    (argv,) = [w for where, w in COMMANDS if where.startswith("apply.yml") and w[1] == "apply"]
    assert {"--auto-approve", "--report", "--plan"} <= set(argv)
    script = next(s["run"] for _, s in steps(wf) if "reconciler apply" in s.get("run", ""))
    for code in ("3)", "4)", "5)"):
        assert code in script, f"exit {code} is explained"
    uploads = [s for _, s in steps(wf) if "apply-report.json" in str(s.get("with", {}))]
    assert uploads and uploads[0]["if"] == "always()"
    assert uploads[0]["with"]["include-hidden-files"] is True, "the journal is in .reconciler/"


def test_drift_keeps_one_issue_and_stays_out_of_the_apply_group() -> None:
    wf = workflow("drift.yml")
    assert wf["on"]["schedule"] and "workflow_dispatch" in wf["on"]
    assert wf["permissions"] == {"contents": "read"}
    assert wf["jobs"]["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert wf["concurrency"]["group"] != workflow("apply.yml")["concurrency"]["group"]
    assert "apply" not in wf["concurrency"]["group"]
    text = (WORKFLOWS / "drift.yml").read_text(encoding="utf-8")
    assert DRIFT_MARKER in text
    assert "state: 'closed'" in text and "issues.create(" in text and "issues.update(" in text
    argv = {" ".join(w) for where, w in COMMANDS if where.startswith("drift.yml")}
    assert (
        "reconciler drift $MANIFESTS --skip-agency-check --format markdown --out drift.json" in argv
    )


@pytest.mark.parametrize("name", NAMES)
def test_no_pull_request_target_and_only_github_actions(name: str) -> None:
    wf = workflow(name)
    assert "pull_request_target" not in wf["on"] and "workflow_run" not in wf["on"]
    for _, step in steps(wf):
        uses = step.get("uses")
        if uses:
            assert uses.startswith("actions/"), f"{name}: third-party action {uses}"
        if str(uses).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False
    for job_name, job in wf["jobs"].items():
        if "uses" in job:
            assert job["uses"].startswith("$/.github/workflows/"), f"{name}:{job_name}"
            assert (REPO / job["uses"][2:]).exists(), job["uses"]


ALLOWED_SECRETS = {
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_AK_READONLY",
    "HUAWEICLOUD_SDK_SK_READONLY",
    "RECONCILER_JOURNAL_URL",
    "RECONCILER_PLAN_KEY",
}


@pytest.mark.parametrize("name", NAMES)
def test_secrets_reach_only_step_env_and_are_never_printed(name: str) -> None:
    wf = workflow(name)
    for job_name, job in wf["jobs"].items():
        assert not SECRET.search(str(job.get("env", {}))), f"{job_name}: secrets in job env"
    assert not SECRET.search(str(wf.get("env", {}))), "secrets in workflow env"
    secret_vars: set[str] = set()
    for job_name, step in steps(wf):
        assert not SECRET.search(step.get("run", "")), f"{job_name}: secret inline in run"
        assert not SECRET.search(str(step.get("with", {}))), f"{job_name}: secret in with"
        for var, value in step.get("env", {}).items():
            if SECRET.search(str(value)):
                secret_vars.add(var)
                names = re.findall(r"secrets\.([A-Z0-9_]+)", str(value))
                assert set(names) <= ALLOWED_SECRETS
    for where, script in scripts(name):
        assert "set -x" not in script, where
        for line in script.splitlines():
            printing = re.search(r"\b(echo|printf|cat|env|printenv)\b", line)
            leaked = [v for v in secret_vars if f"${v}" in line or "${" + v in line]
            if printing and leaked:
                assert line.strip().startswith('echo "::add-mask::'), f"{where}: {line.strip()}"
        if "printenv" in script or re.search(r"^\s*env\s*$", script, re.M):
            pytest.fail(f"{where} prints the environment")
    if "HUAWEICLOUD_SDK_AK" in secret_vars:
        text = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert 'echo "::add-mask::$HUAWEICLOUD_SDK_AK"' in text


@pytest.mark.parametrize("name", ["plan.yml", "drift.yml"])
def test_plan_and_drift_read_with_the_read_only_pair_only(name: str) -> None:
    used = False
    for _, step in steps(workflow(name)):
        for var, value in step.get("env", {}).items():
            if var in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"):
                assert value == "${{ secrets." + var + "_READONLY }}"
                used = True
    assert used


def test_apply_plans_and_writes_with_the_write_pair() -> None:
    """The reviewed plan must check agencies as apply will, or apply would find it stale."""
    wf = workflow("apply.yml")
    for job in ("plan", "apply"):
        envs = [s.get("env", {}) for s in wf["jobs"][job]["steps"]]
        assert any("secrets.HUAWEICLOUD_SDK_AK }}" in str(e) for e in envs), job
        assert not any("_READONLY" in str(e) for e in envs), job


def test_only_the_read_only_pair_skips_the_agency_check() -> None:
    for where, argv in COMMANDS:
        if argv[1] in ("plan", "drift"):
            skips = "--skip-agency-check" in argv
            assert skips == (not where.startswith("apply.yml")), where


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml", "drift.yml"])
def test_never_the_embedded_emulator_in_ci(name: str) -> None:
    """Without an endpoint the CLI talks to its emulator: CI must always name the real one."""
    assert workflow(name)["env"]["RECONCILER_ENDPOINT"] == REAL_ENDPOINT


def test_docs_name_the_workflows_secrets_and_variables() -> None:
    guide = (REPO / "docs" / "gitops.md").read_text(encoding="utf-8")
    text = "".join((WORKFLOWS / n).read_text(encoding="utf-8") for n in NAMES)
    expressions = " ".join(re.findall(r"\$\{\{(.*?)\}\}", text, re.S))
    for name in sorted(set(re.findall(r"(?:secrets|vars|inputs)\.([\w-]+)", expressions))):
        assert name in guide, f"docs/gitops.md does not explain {name}"
    for environment in ("partner-production", "partner-production-plan"):
        assert f"`{environment}`" in guide


def test_the_workflow_commands_run_in_order_against_the_emulator(env: Env) -> None:
    """plan.yml, then apply.yml, then drift.yml, as CI runs them, on the example manifests
    (in process; tests/gitops/test_workflow_jobs.py runs the scripts themselves with bash)."""
    manifests = env.manifests(EXAMPLES)
    expected = {"validate": {0}, "plan": {2}, "apply": {0}, "journal": {0}, "drift": {2}}
    seen = []
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        for _, argv in [(w, a) for w, a in COMMANDS if w.startswith(name)]:
            if argv[1] not in expected:
                continue  # reconciler --version
            if argv[1] == "apply":  # the step "Plan again if the reviewed plan expired" copies
                (env.root / "apply-plan.json").write_bytes((env.root / "plan.json").read_bytes())
            args = [str(manifests) if a == "$MANIFESTS" else a for a in argv[1:]]
            result = env.run(*args)
            assert result.exit_code in expected[argv[1]], f"{name}: {argv}\n{result.output}"
            seen.append(argv[1])
    assert seen == ["validate", "plan", "validate", "plan", "plan", "apply", "journal", "drift"]
    assert (env.root / "apply-report.json").exists() and (env.root / "drift.json").exists()
    reviewed = json.loads((env.root / "plan.json").read_text(encoding="utf-8"))
    calls = [c["operation"] for change in reviewed["changes"] for c in change["calls"]]
    assert sorted(str(w["operation"]) for w in env.writes()) == sorted(calls), "each call once"
