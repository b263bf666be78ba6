"""What the hostile-name tests share: an account whose live data holds names planted by a third
party, the CLI run against it in process, and the checks that each output is safe for its medium.

A test module supplies its seed (the demo seed with names planted where its kinds print them)
and its manifests; :func:`hostile_account` serves them, :func:`plan_and_drift` runs plan and
drift in every format, and :func:`by_slots` runs every sample of :data:`~.hostile.SAMPLES` in a
fixed slot, ``count`` slots a test.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator import DEMO_SEED_PATH, Emulator
from reconciler.emulator.seed import load_document

from .hostile import SAMPLES, assert_ci_safe, assert_markdown_safe, assert_terminal_safe

DEMO: dict[str, Any] = load_document(DEMO_SEED_PATH)
FORMATS = ("text", "json", "markdown", "github")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Account:
    root: Path
    runner: CliRunner

    @property
    def manifests(self) -> str:
        return str(self.root / "manifests")

    def run(self, *args: str) -> Run:
        env = {
            "RECONCILER_STATE_DIR": str(self.root / "state"),
            "RECONCILER_RATE": "100000",
            # configuration an adopter sets (export writes it into the Settings)
            "RECONCILER_AGENCY_NAME": "demo_distributor_platform",
        }
        result = self.runner.invoke(main, list(args), env=env, catch_exceptions=False)
        return Run(result.exit_code, result.stdout, result.stderr)


@contextmanager
def hostile_account(seed: dict[str, Any], manifests: Mapping[str, str]) -> Iterator[Account]:
    """A fresh embedded emulator on ``seed`` and a folder of ``manifests`` (file name -> text)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        Emulator(state_file=root / "state" / "emulator-state.json", seed=seed)
        (root / "manifests").mkdir()
        for name, text in manifests.items():
            (root / "manifests" / name).write_text(text, encoding="utf-8")
        yield Account(root, CliRunner())


def check_text(run: Run, account: Account) -> None:
    assert_terminal_safe(run.output)
    assert_ci_safe(run.output, account.manifests)


def check(run: Run, fmt: str, account: Account, details: int) -> None:
    """``run``'s output is safe in ``fmt``'s medium (stderr is always text)."""
    assert_terminal_safe(run.stderr)
    assert_ci_safe(run.stderr, account.manifests)
    if fmt == "json":
        assert_ci_safe(run.stdout, account.manifests)
        json.loads(run.stdout)
    elif fmt == "markdown":
        assert_markdown_safe(run.stdout, details=details)
        assert_ci_safe(run.stdout, account.manifests)
    elif fmt == "github":
        assert_terminal_safe(run.stdout)
        assert_ci_safe(run.stdout, account.manifests, annotations=True)
    else:
        check_text(run, account)


def line_count(text: str) -> int:
    return text.count("\n")


def plan_and_drift(acct: Account, lines: dict[str, int], *, drift_details: int) -> None:
    """Plan and drift in every format, each with changes (exit 2) and safe for its medium; the
    line count of each stdout goes into ``lines``. A plan's Markdown has one ``<details>``
    block; a drift report's has ``drift_details``."""
    for fmt in FORMATS:
        plan = acct.run("plan", acct.manifests, "--format", fmt, "--detailed-exitcode")
        assert plan.exit_code == 2, plan.output
        check(plan, fmt, acct, details=1)
        drift = acct.run("drift", acct.manifests, "--format", fmt)
        assert drift.exit_code == 2, drift.output
        check(drift, fmt, acct, details=drift_details)
        lines[f"plan {fmt}"], lines[f"drift {fmt}"] = (
            line_count(plan.stdout),
            line_count(drift.stdout),
        )


def slots(offset: int, count: int) -> list[str]:
    """``count`` samples from ``offset`` on (wrapping round), one for each slot."""
    values = list(SAMPLES.values())
    return [values[(offset + n) % len(values)] for n in range(count)]


def by_slots(count: int) -> pytest.MarkDecorator:
    """Parametrize ``offset`` so that every sample runs in a slot of one of the tests."""
    return pytest.mark.parametrize(
        "offset", range(0, len(SAMPLES), count), ids=lambda o: f"samples-{o}-{o + count - 1}"
    )
