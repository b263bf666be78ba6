"""The workflows' jobs run as written (their `run:` scripts, with bash, in order, following their
`if:` conditions) against the embedded emulator: a pull request's plan, the merge's plan and
approved apply, including a plan that expired during the review, and the nightly drift."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.connect import default_seed
from reconciler.emulator import Emulator

from .conftest import EXAMPLES, REPO, TIANFU_QUOTA, WRITES, Env
from .fake_github import TOKEN, FakeGitHub, github
from .runner import Context, Job, run_job
from .workflows import reconciler_commands, step

pytestmark = pytest.mark.slow
__all__ = ["github"]  # the fixture

INSTALL = "Install partner-reconciler"
READ_ONLY = {INSTALL, "Check the read-only key pair"}
# The write pair is a secret, and the journal guard calls GitHub (tests/gitops/test_apply_journal)
WRITE = {INSTALL, "Check the write key pair", "Check the journal of the last apply"}
READ_MINUTES = "32"


@pytest.fixture
def root(env: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The job's working directory, as after the checkout: the examples in manifests/, the
    scripts in .github/scripts/, and the emulator's state in .reconciler/ (where apply.yml keeps
    its journal)."""
    monkeypatch.setenv("RECONCILER_STATE_DIR", ".reconciler")
    env.manifests(EXAMPLES)
    scripts = REPO / ".github" / "scripts"
    shutil.copytree(scripts, env.root / ".github" / "scripts")  # what the checkout brings
    yield env.root


def emulator(root: Path) -> Emulator:
    return Emulator(state_file=root / ".reconciler" / "emulator-state.json", seed=default_seed())


def writes(root: Path) -> list[str]:
    return [str(c["operation"]) for c in emulator(root).call_log() if c["operation"] in WRITES]


def plan_ttl(root: Path, ttl: str) -> None:
    settings = root / "manifests" / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(re.sub(r"planTtl: \w+", f"planTtl: {ttl}", text), encoding="utf-8")


def merge_and_approve(
    root: Path,
    *,
    before_approval: object = None,
    skip: set[str] = WRITE,
    known: dict[str, str] | None = None,
) -> tuple[Job, Job]:
    """apply.yml: its plan job, then (the approver approves) its apply job."""
    needs = {"budget": {"read-minutes": READ_MINUTES}}
    plan = run_job("apply.yml", "plan", root, skip=skip, ctx=Context(needs=needs))
    assert plan.failed() is None, plan.failed()
    assert plan.steps["plan"].outputs["rc"] == "2"
    if callable(before_approval):
        before_approval()
    outputs = {k: v for s in ("plan", "apply-budget") for k, v in plan.steps[s].outputs.items()}
    ctx = Context(needs={"plan": outputs}, known={"github.token": TOKEN} | (known or {}))
    apply = run_job("apply.yml", "apply", root, skip=skip, ctx=ctx)
    return plan, apply


def test_pull_request_merge_and_drift_run_every_reconciler_command(root: Path) -> None:
    plan_ttl(root, "5m")  # expires during the review: the apply job plans again
    pr = run_job("plan.yml", "plan", root, skip=READ_ONLY)
    assert pr.failed() is None, pr.failed()
    assert pr.steps["plan"].outputs["rc"] == "2"
    assert "<!-- partner-reconciler:plan -->" in pr.summary
    assert not writes(root), "a pull request's plan never writes"

    plan, apply = merge_and_approve(root)
    assert apply.failed() is None, apply.failed()
    assert "planning again" in apply.steps["reviewed"].stdout
    assert "The new plan is the reviewed plan" in apply.steps["reviewed"].stdout
    assert apply.steps["apply"].outputs["rc"] == "0"
    reviewed = json.loads((root / "plan.json").read_text(encoding="utf-8"))
    calls = [c["operation"] for change in reviewed["changes"] for c in change["calls"]]
    assert sorted(writes(root)) == sorted(calls), "each reviewed call once"
    assert (root / "journal-record" / "journal.sqlite").exists()
    assert (root / "journal-record" / "open-operations.jsonl").read_text(encoding="utf-8") == ""
    assert plan.steps["apply-budget"].outputs["apply-minutes"] == str(
        2 * int(READ_MINUTES) + math.ceil(len(calls) * 3 / 10 * 1.25 / 60)
    )

    drift = run_job("drift.yml", "drift", root, skip=READ_ONLY)
    assert drift.failed() is None, drift.failed()
    assert drift.steps["drift"].outputs["rc"] == "2", "account managers stay manual"

    ran = {line for job in (pr, plan, apply, drift) for line in job.calls}
    for where, argv in reconciler_commands():
        if argv[1:] != ["--version"]:
            line = " ".join("manifests" if a == "$MANIFESTS" else a for a in argv[1:])
            assert line in ran, f"{where}: `reconciler {line}` did not run"


def test_approval_after_live_state_moved_applies_nothing(root: Path) -> None:
    moved = lambda: emulator(root).spend_quota(TIANFU_QUOTA, "1200.00")  # noqa: E731
    _, apply = merge_and_approve(root, before_approval=moved)
    assert "valid for" in apply.steps["reviewed"].stdout, "not expired: apply checks it itself"
    assert apply.steps["apply"].rc == 4
    assert "::error title=stale plan::" in apply.steps["apply"].stdout
    assert not writes(root)
    assert apply.steps["Record the journal"].outcome == "success", "the journal is kept anyway"


def test_an_expired_plan_whose_live_state_moved_is_refused_before_apply(root: Path) -> None:
    plan_ttl(root, "5m")
    moved = lambda: emulator(root).spend_quota(TIANFU_QUOTA, "1200.00")  # noqa: E731
    _, apply = merge_and_approve(root, before_approval=moved)
    assert apply.steps["reviewed"].rc == 4
    assert "::error title=stale plan::The reviewed plan expired" in apply.steps["reviewed"].stdout
    assert apply.steps["apply"].outcome == "skipped"
    assert apply.steps["marker"].outcome == "skipped", "nothing started: no journal expected"
    assert not writes(root)


def test_a_failed_plan_quotes_live_names_without_annotating(root: Path) -> None:
    """Issue 10: a name from live data must not become an annotation or break the fence."""
    quotas = root / "manifests" / "reseller-quotas.yaml"
    evil = "manifests/settings.yaml:1:1:forged````</details>@team"
    text = quotas.read_text(encoding="utf-8").replace("tianfu-cloud\n", f"'{evil}'\n", 1)
    quotas.write_text(text, encoding="utf-8")
    pr = run_job("plan.yml", "plan", root, skip=READ_ONLY)
    plan = pr.steps["plan"]
    assert plan.outputs["rc"] == "1", plan.stderr
    body = (root / "plan.md").read_text(encoding="utf-8")
    fence = re.findall(r"^(`{3,})$", body, re.M)
    assert len(fence) == 2 and len(fence[0]) > 4 and fence[0] == fence[1]
    assert evil in body.split(fence[0])[1], "quoted inside the fence"
    for line in (plan.stdout + plan.stderr).splitlines():
        assert not line.startswith(("::error file=", "::warning file=")), line
    token = re.search(r"^::stop-commands::(\w+)$", plan.stdout, re.M)
    assert token and len(token.group(1)) == 32 and f"::{token.group(1)}::" in plan.stdout
    assert pr.steps["Result"].outcome == "failure"


def test_a_journal_url_that_the_release_ignores_fails_the_apply(root: Path) -> None:
    """With RECONCILER_JOURNAL_URL the cache and its guard are not used: a release that still
    writes a local journal file must not pass for one that wrote to PostgreSQL."""
    url = {"secrets.RECONCILER_JOURNAL_URL": "postgresql://journal.invalid/reconciler"}
    _, apply = merge_and_approve(root, known=url)
    assert apply.steps["journal"].outputs["store"] == "postgresql"
    assert "::warning" not in apply.steps["journal"].stdout
    assert apply.steps["Restore the journal from the cache"].outcome == "skipped"
    assert apply.steps["marker"].outcome == "skipped"
    assert apply.steps["apply"].outcome == "failure"
    if (root / ".reconciler" / "journal.sqlite").exists():  # this release ignores the URL
        assert "::error title=journal not in PostgreSQL::" in apply.steps["apply"].stdout
    else:  # a release that uses it cannot reach this database: nothing written either way
        assert not writes(root)


@pytest.mark.parametrize("lost", [False, True], ids=["journal saved", "runner lost"])
def test_an_apply_killed_mid_write_is_settled_by_the_next_run_or_stops_it(
    root: Path, github: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch, lost: bool
) -> None:
    """Run 1 is killed as it sends its first write; the cache then loses the journal. Run 2
    restores it from run 1's artifact and settles before writing, or, when run 1's runner was
    lost before uploading anything but its start marker, refuses to write at all."""
    fake, api = github
    monkeypatch.setenv("GITHUB_API_URL", api)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/partner-gitops")
    guarded = WRITE - {"Check the journal of the last apply"}
    fake.run(41)
    monkeypatch.setenv("GITHUB_RUN_ID", "41")
    monkeypatch.setenv("RECONCILER_CRASH_AT", "before-send")
    _, first = merge_and_approve(root, skip=guarded)
    assert first.steps["apply"].rc == 137, first.steps["apply"].stderr
    fake.artifact("reconciler-apply-started", 41, "2026-11-20T10:00:00Z")
    open_ops = (root / "journal-record" / "open-operations.jsonl").read_text(encoding="utf-8")
    assert len(open_ops.splitlines()) == 1
    if not lost:
        fake.upload("reconciler-journal", 41, "2026-11-20T10:05:00Z", root / "journal-record")
    for old in (root / ".reconciler").glob("journal.sqlite*"):
        old.unlink()  # evicted from the cache
    shutil.rmtree(root / "journal-record")
    assert not writes(root), "killed before its first write"

    monkeypatch.delenv("RECONCILER_CRASH_AT")
    # Run 1 died before its socket write, but a journal cannot know that: against the real API
    # run 2 would freeze the pair for the in-flight horizon (docs/apply.md) and exit 5. Here
    # the emulator is in process, so nothing of run 1 can still be in flight.
    monkeypatch.setenv("RECONCILER_IN_FLIGHT_HORIZON", "0")
    fake.run(42)
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    _, second = merge_and_approve(root, skip=guarded)
    check = second.steps["Check the journal of the last apply"]
    if lost:
        assert check.rc == 1 and "apply run 41 started writing" in check.stdout
        assert second.steps["apply"].outcome == "skipped" and not writes(root)
        return
    assert check.rc == 0 and "left 1 operation(s) open" in check.stdout, check.stdout
    assert second.steps["apply"].outputs["rc"] == "0", second.steps["apply"].stdout
    assert "Settled 1 open operation(s) of earlier runs" in second.steps["apply"].stderr
    plan = json.loads((root / "plan.json").read_text(encoding="utf-8"))
    calls = [c["operation"] for change in plan["changes"] for c in change["calls"]]
    assert sorted(writes(root)) == sorted(calls), "each call once, none twice"


BUDGET = step("budget.yml", "budget", "Minutes to read the partner account")["run"]


@pytest.mark.parametrize("customers", [0, 1, 1000, 9142, 10_000, 100_000, 164_000, "007"])
def test_the_read_budget_follows_the_documented_formula(
    customers: int | str, tmp_path: Path
) -> None:
    result = bash(tmp_path, BUDGET, CUSTOMERS=str(customers))
    expected = math.ceil(int(customers) * 1.05 / 10 * 1.25 / 60) + 10
    assert result.returncode == 0, result.stdout
    assert f"read-minutes={min(expected, 360)}" in result.output
    assert ("::warning title=time budget::" in result.stdout) == (expected > 360)


@pytest.mark.parametrize("customers", ["", "ten", "1e5", "-5", "1234567890", "12 000"])
def test_the_read_budget_refuses_a_customer_count_that_is_not_one(
    customers: str, tmp_path: Path
) -> None:
    result = bash(tmp_path, BUDGET, CUSTOMERS=customers)
    assert result.returncode == 1
    assert "::error title=RECONCILER_CUSTOMERS::" in result.stdout


class Ran(subprocess.CompletedProcess[str]):
    output: str


def bash(cwd: Path, script: str, **env: str) -> Ran:
    path = cwd / "github-output"
    path.write_text("", encoding="utf-8")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(path), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    ran = Ran(done.args, done.returncode, done.stdout, done.stderr)
    ran.output = path.read_text(encoding="utf-8")
    return ran
