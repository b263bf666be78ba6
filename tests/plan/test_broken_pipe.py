"""A reader that leaves early (`| head`) ends the command quietly: no "Internal error", no
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RECONCILER = str(Path(sys.executable).parent / "reconciler")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"


@pytest.mark.slow
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env.update(RECONCILER_STATE_DIR=str(tmp_path), RECONCILER_RATE="10000")
    done = subprocess.run(
        ["bash", "-c", f"'{RECONCILER}' plan '{EXAMPLES}' --format json | true; "
         "echo ${PIPESTATUS[0]} >&2"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] in {"0", "1"}, done.stderr
