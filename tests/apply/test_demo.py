"""The README demo (``make demo``): plan -> apply -> manual steps and the customers' part ->
plan and apply the rest -> plan says "No changes."."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CLEARED_ENV, REPO


@pytest.mark.slow
def test_the_demo_script_ends_with_no_changes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(RECONCILER_STATE_DIR=str(tmp_path / "state"), RECONCILER_RATE="500", NO_COLOR="1")
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Apply: 16 applied, 0 failed, 3 manual, 0 unknown" in done.stdout
    assert "Plan: 19 changes" in done.stdout
    assert "Customer coupons (2)" in done.stdout
    assert "2 declared states cannot be reached" in done.stdout
    assert "customer 1e7b4d0f27f893eeb9e53607e347368e: agency granted" in done.stdout
    assert "Apply: 2 applied, 0 failed, 0 manual, 0 unknown" in done.stdout
    assert done.stdout.rstrip().endswith("No changes. Live state matches the manifests.")
    assert (tmp_path / "state" / "demo-manual-steps.md").exists()
