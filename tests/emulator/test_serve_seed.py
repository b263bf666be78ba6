"""`reconciler emulator serve --seed FILE` never ignores the seed silently: with --seed the state
starts from it (replacing an existing state file), and serve always says what it serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "emulator-seed.yaml"
RECONCILER = str(Path(sys.executable).parent / "reconciler")


def serve_once(state: Path, *args: str) -> tuple[str, int]:
    """Start `serve`, read its first lines, count the customers it serves, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    with subprocess.Popen(
        [RECONCILER, "emulator", "serve", "--port", "0", "--state", str(state), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stderr is not None
            note = proc.stderr.readline().strip()
            url = proc.stdout.readline().split()[3]
            data = httpx.get(f"{url}/_emulator/state", timeout=10).json()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return note, len(data["customers"])


@pytest.mark.slow
def test_serve_says_what_it_serves_and_honours_seed(tmp_path: Path) -> None:
    seed = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    state = tmp_path / "state.json"
    note, demo = serve_once(state)
    assert note == f"state {state}: created from the demo seed"

    small = tmp_path / "small.json"
    seed["customers"] = seed["customers"][:2]
    for section in ("coupons", "coupon_records", "adjust_records", "accounts"):
        seed.pop(section, None)  # they name customers the small seed no longer has
    small.write_text(json.dumps(seed), encoding="utf-8")
    note, seeded = serve_once(state, "--seed", str(small))
    assert note == f"state {state}: replaced by the seed {small} (--seed)"
    assert seeded < demo, "the seed wins over the existing state file"

    note, kept = serve_once(state)
    assert note == f"state {state}: serving it as it is (--seed FILE starts from a seed instead)"
    assert kept == seeded
