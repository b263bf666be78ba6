"""Fixtures: a fresh embedded emulator per test, driven through the CLI."""

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

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"
IN_SYNC = REPO / "examples" / "in-sync"
WRITES = {
    "update_coupon_quotas",
    "reclaim_coupon_quotas",
    "auto_renewal_resources",
    "cancel_auto_renewal_resources",
}

# Handy ids of the demo seed (reconciler/emulator/README.md).
XINGHE = "ed0e5914c5e5fc0a8a8d3bcc812f2330"
XINGHE_WEB = "8802e8c9-b42b-5e38-9852-d1b85b3b5dd4"  # ECS on auto-renew
KAIYUAN_01 = "8f1bcb4c-0ea3-5d2c-a5a5-8e70c33759e2"  # on auto-renew
HAINA = "b074af1606988abdddec41d09327c6a9"
TIANFU_QUOTA = "2025080209150301"  # tianfu-cloud's 30000.00 child of the main quota
MAIN_QUOTA = "2025063010300118"


@dataclass
class Env:
    """A working directory with its own emulator state."""

    root: Path
    runner: CliRunner

    @property
    def state_file(self) -> Path:
        return self.root / "state" / "emulator-state.json"

    def emulator(self) -> Emulator:
        return Emulator(state_file=self.state_file, seed=default_seed())

    def run(self, *args: str) -> Result:
        return self.runner.invoke(main, list(args), catch_exceptions=False)

    def manifests(self, source: Path = IN_SYNC) -> Path:
        dest = self.root / "manifests"
        shutil.copytree(source, dest, dirs_exist_ok=True)
        return dest

    def writes(self) -> list[dict[str, object]]:
        return [c for c in self.emulator().call_log() if c["operation"] in WRITES]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RECONCILER_RATE", "10000")  # pacing is tested in tests/bss
    for var in ("RECONCILER_ENDPOINT", "RECONCILER_PROFILE", "RECONCILER_AGENCY_NAME", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    yield Env(tmp_path, CliRunner())
