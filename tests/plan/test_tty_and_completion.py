"""What a person at a terminal gets: colour unless --no-color or NO_COLOR, and shell completion
(README "Shell completion"). Real processes on a real pseudo-terminal, not the click runner."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES

RECONCILER = str(Path(sys.executable).parent / "reconciler")
ANSI = "\x1b["


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RECONCILER_", "HUAWEICLOUD_")) and k != "NO_COLOR"
    }
    env.update(RECONCILER_STATE_DIR=str(tmp_path / "state"), RECONCILER_RATE="10000", **extra)
    return env


def on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run ``reconciler ARGS`` with stdout on a pseudo-terminal; what it printed there."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [RECONCILER, *args], stdout=follower, stderr=subprocess.DEVNULL, env=env
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "extra", "coloured"),
    [
        pytest.param(["plan", str(EXAMPLES)], {}, True, id="plan-coloured"),
        pytest.param(["plan", str(EXAMPLES), "--no-color"], {}, False, id="plan-no-color"),
        pytest.param(["--no-color", "plan", str(EXAMPLES)], {}, False, id="group-no-color"),
        pytest.param(["plan", str(EXAMPLES)], {"NO_COLOR": "1"}, False, id="NO_COLOR"),
        pytest.param(["drift", str(EXAMPLES)], {}, True, id="drift-coloured"),
        pytest.param(["drift", str(EXAMPLES), "--no-color"], {}, False, id="drift-no-color"),
    ],
)
def test_colour_on_a_terminal_unless_asked_not_to(
    tmp_path: Path, args: list[str], extra: dict[str, str], coloured: bool
) -> None:
    out = on_a_terminal(args, environment(tmp_path, **extra))
    assert "Plan: 19 changes" in out or "Drift: 21 objects differ" in out, out[-500:]
    assert (ANSI in out) is coloured


def complete(tmp_path: Path, words: str) -> list[str]:
    """What bash completion offers for the command line ``words`` (cursor at its end)."""
    parts = words.split(" ")
    env = environment(
        tmp_path,
        _RECONCILER_COMPLETE="bash_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(parts) - 1),
    )
    done = subprocess.run(
        [RECONCILER], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines()]


@pytest.mark.slow
def test_shell_completion_as_the_readme_sets_it_up(tmp_path: Path) -> None:
    script = subprocess.run(
        [RECONCILER],
        env=environment(tmp_path, _RECONCILER_COMPLETE="bash_source"),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "complete -o nosort -F _reconciler_completion reconciler" in script
    assert complete(tmp_path, "reconciler pl") == ["plan"]
    assert complete(tmp_path, "reconciler s") == ["show"]
    assert complete(tmp_path, "reconciler plan x --for") == ["--format"]
    assert complete(tmp_path, "reconciler plan x --format ") == [
        "text",
        "json",
        "markdown",
        "github",
    ]
    assert "--target" in complete(tmp_path, "reconciler drift x --t")
    assert complete(tmp_path, "reconciler emulator gr") == ["grant-agency"]
