"""Run a workflow job's shell steps here, as a GitHub runner would: each `run:` script with
`bash --noprofile --norc -eo pipefail`, the workflow's, job's and step's env, outputs through
`$GITHUB_OUTPUT`, a step summary, and `if:` conditions of the forms the workflows use.

Steps that call an action (`uses:`) are not run and count as succeeded; the caller names the
steps to skip (installing, checking secrets, calling GitHub's API). An env value that is an
expression is resolved when it reads a step output, a `needs` output or an input, and is
dropped otherwise: so `RECONCILER_ENDPOINT` is unset (the CLI uses its embedded emulator) and
no secret reaches a step. Each `reconciler` call is logged, to show which commands ran.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .workflows import workflow

EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.S)
REFERENCE = re.compile(r"\b(steps|needs)\.([\w-]+)\.(outputs\.[\w-]+|outcome)|\binputs\.([\w-]+)")
BIN = Path(sys.executable).parent
CLEARED = (
    "RECONCILER_ENDPOINT",
    "RECONCILER_PROFILE",
    "RECONCILER_JOURNAL",
    "RECONCILER_JOURNAL_URL",
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
)


@dataclass
class Step:
    name: str
    outcome: str = "skipped"  # success (an action counts as run), failure or skipped
    rc: int | None = None  # the script's exit code, when it ran
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""


@dataclass
class Job:
    steps: dict[str, Step]
    summary: str
    calls: list[str]

    def failed(self) -> Step | None:
        return next((s for s in self.steps.values() if s.outcome == "failure"), None)


@dataclass
class Context:
    needs: dict[str, dict[str, str]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    known: dict[str, str] = field(default_factory=dict)  # e.g. {"github.token": "..."}
    steps: dict[str, Step] = field(default_factory=dict)

    def value(self, match: re.Match[str]) -> str | None:
        kind, name, attr, input_name = match.groups()
        if input_name:
            return self.inputs.get(input_name, "")
        if kind == "needs":
            return self.needs.get(name, {}).get(attr.removeprefix("outputs."), "")
        found = self.steps.get(name)
        if attr == "outcome":
            return "skipped" if found is None else found.outcome
        return "" if found is None else found.outputs.get(attr.removeprefix("outputs."), "")

    def resolve(self, text: str) -> str | None:
        match = EXPRESSION.match(text.strip())
        if not match:
            return text
        expression = match.group(1).strip()
        if expression in self.known:
            return self.known[expression]
        inner = REFERENCE.fullmatch(expression)
        return self.value(inner) if inner else None

    def condition(self, expr: str | None, failed: bool) -> bool:
        if expr is None:
            return not failed
        text = str(expr)
        status = "always()" in text
        text = REFERENCE.sub(lambda m: repr(self.value(m)), text.replace("always()", "True"))
        text = text.replace("&&", " and ").replace("||", " or ")
        assert re.fullmatch(r"[\s'\w\-=!()\.]*", text), f"unsupported condition {expr!r}"
        result = bool(eval(text, {"__builtins__": {}}))  # the workflow's own literal condition
        return result if status else result and not failed


def environment(*layers: dict[str, Any], ctx: Context) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for layer in layers:
        for key, raw in layer.items():
            value = ctx.resolve(str(raw))
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
    return env


def run_job(
    name: str, job_name: str, cwd: Path, *, skip: set[str], ctx: Context | None = None
) -> Job:
    wf = workflow(name)
    job_def = wf["jobs"][job_name]
    ctx = ctx or Context()
    ctx.steps = {}
    summary = cwd / f".summary-{job_name}"
    summary.write_text("", encoding="utf-8")
    log = cwd / ".reconciler-calls"
    log.write_text("", encoding="utf-8")
    shim = _shim(cwd, log)
    failed = False
    for index, spec in enumerate(job_def["steps"]):
        key = spec.get("id") or spec.get("name") or f"step-{index}"
        step = Step(spec.get("name", key))
        ctx.steps[key] = step
        if step.name in skip or not ctx.condition(spec.get("if"), failed):
            continue
        if "run" not in spec:
            step.outcome = "success"  # an action: not run here
            continue
        env = environment(wf.get("env", {}), job_def.get("env", {}), spec.get("env", {}), ctx=ctx)
        env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
        _run(step, spec["run"], env, cwd, summary)
        failed = failed or step.outcome == "failure"
    calls = log.read_text(encoding="utf-8").splitlines()
    return Job(ctx.steps, summary.read_text(encoding="utf-8"), calls)


def _run(step: Step, script: str, env: dict[str, str], cwd: Path, summary: Path) -> None:
    output = cwd / ".github-output"
    output.write_text("", encoding="utf-8")
    env |= {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    step.rc, step.stdout, step.stderr = done.returncode, done.stdout, done.stderr
    step.outcome = "success" if done.returncode == 0 else "failure"
    for line in output.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        step.outputs[key] = value


def _shim(cwd: Path, log: Path) -> Path:
    """A `reconciler` first on PATH that logs its arguments, then runs the real one."""
    shim = cwd / ".shim"
    shim.mkdir(exist_ok=True)
    script = shim / "reconciler"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{BIN / "reconciler"}" "$@"\n', encoding="utf-8"
    )
    script.chmod(0o755)
    return shim
