"""A CLI test environment shared by the plan and gitops suites: a fresh embedded emulator per
test (its state in the test's tmp dir), the `reconciler` command run through click's runner,
and the emulator's control plane for setting up live state and reading its call log."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.connect import default_seed
from reconciler.emulator import Emulator
from reconciler.kinds import registry

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "manifests"
IN_SYNC = REPO / "examples" / "in-sync"
#: Every write a registered kind journals (its operations).
WRITES = {op.name for kind in registry.KINDS for op in kind.operations}


@dataclass
class Env:
    """A working directory with its own emulator state, and ways to drive it."""

    root: Path
    runner: CliRunner

    @property
    def state_file(self) -> Path:
        return self.root / "state" / "emulator-state.json"

    def emulator(self) -> Emulator:
        return Emulator(state_file=self.state_file, seed=default_seed())

    def run(self, *args: str) -> Result:
        return self.runner.invoke(main, list(args), catch_exceptions=False)

    def write(self, name: str, text: str) -> Path:
        path = self.root / "manifests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def manifests(self, source: Path = IN_SYNC) -> Path:
        """Copy a manifest set into the working directory's ``manifests/``."""
        dest = self.root / "manifests"
        shutil.copytree(source, dest, dirs_exist_ok=True)
        return dest

    def copy_examples(self) -> Path:
        return self.manifests(EXAMPLES)

    def writes(self) -> list[dict[str, object]]:
        return [c for c in self.emulator().call_log() if c["operation"] in WRITES]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RECONCILER_RATE", "10000")  # pacing is tested in tests/bss
    for var in (
        "RECONCILER_ENDPOINT",
        "RECONCILER_PROFILE",
        "RECONCILER_AGENCY_NAME",
        "RECONCILER_SKIP_AGENCY_CHECK",
        "NO_COLOR",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    yield Env(tmp_path, CliRunner())
