"""On a terminal: colour and a progress bar through rich, never an escape sequence that came from
data, and nothing of it in pipes, with NO_COLOR or TERM=dumb. Live names are chosen by third
parties, so the attacker here seeds resource names full of terminal control sequences."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.emulator.seed import DEMO_SEED_PATH, load_document
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.plan.progress import ReadCounters
from reconciler.render.escape import visible as spelled
from reconciler.render.progress import TtyProgress
from reconciler.render.terminal import paint, visible

from .conftest import EXAMPLES

ENTRY = "from reconciler.cli import main; main()"
# What a terminal would act on: OSC (title, clipboard), CSI (clear, move), C1 CSI, BEL, BS, CR.
HOSTILE = "\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[1;1H\x9b31m\x08\r"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours we write ourselves
ERASE = "\r\x1b[K"  # the progress line's own redraw


def on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run ``reconciler ARGS`` with stdout and stderr on a pseudo-terminal; all it wrote."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-c", ENTRY, *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=cwd,
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=60)
    os.close(leader)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture
def hostile_env(tmp_path: Path) -> dict[str, str]:
    """An embedded emulator whose every resource name carries ``HOSTILE``."""
    doc = load_document(DEMO_SEED_PATH)
    for customer in doc["customers"]:
        for resource in customer.get("resources", []):
            resource["resource_name"] += HOSTILE
    seed = tmp_path / "hostile-seed.json"
    seed.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "HUAWEI"))}
    env.pop("NO_COLOR", None)
    env.update(RECONCILER_STATE_DIR=str(tmp_path / "state"), RECONCILER_RATE="10000")
    env.update(TERM="xterm-256color", COLUMNS="100")
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "emulator", "seed", str(seed)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return env


def test_a_plan_on_a_terminal_is_coloured_and_carries_no_control_sequence_from_data(
    hostile_env: dict[str, str], tmp_path: Path
) -> None:
    code, out = on_a_terminal(["plan", str(EXAMPLES)], hostile_env, tmp_path)
    assert code == 0, out
    assert "\x1b[32m" in out, "changes are coloured on a terminal"
    assert "\\x1b]0;pwned\\x07" in out, "hostile names are shown, escaped"
    rest = SGR.sub("", out.replace(ERASE, "")).replace("\r\n", "\n")
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", rest), repr(rest[:300])


@pytest.mark.parametrize(
    ("setting", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")], ids=["NO_COLOR", "TERM=dumb"]
)
def test_no_colour_with_no_color_or_a_dumb_terminal(
    hostile_env: dict[str, str], tmp_path: Path, setting: str, value: str
) -> None:
    code, out = on_a_terminal(["plan", str(EXAMPLES)], {**hostile_env, setting: value}, tmp_path)
    assert code == 0, out
    assert not SGR.search(out)


def test_drift_on_a_terminal_carries_no_control_sequence_from_data(
    hostile_env: dict[str, str], tmp_path: Path
) -> None:
    code, out = on_a_terminal(["drift", str(EXAMPLES)], hostile_env, tmp_path)
    assert code == 2, out
    rest = SGR.sub("", out.replace(ERASE, "")).replace("\r\n", "\n")
    assert "\\x1b[2J" in rest
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", rest), repr(rest[:300])


@pytest.mark.parametrize("code", [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029])
def test_every_control_character_is_made_visible(code: int) -> None:
    shown = paint(f"a{chr(code)}b", "green")
    assert shown.startswith("\x1b[32m")
    assert chr(code) not in SGR.sub("", shown)
    assert visible(chr(code)) == spelled(chr(code))  # one escaper: \\x1b, \\n, \\t, \\u2028


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def big_read() -> ReadCounters:
    counters = ReadCounters(
        customers=100_000, customers_found=12_300, resellers=500, resellers_found=500
    )
    counters.expect(RESOURCES.name, RESOURCES.label, "customer", 100_000)
    counters.expect(ISSUED.name, ISSUED.label, "reseller", 500)
    counters.done(RESOURCES.name, 9_800)
    counters.done(ISSUED.name, 45)
    counters.eta_seconds = 2 * 3600
    return counters


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_the_progress_line_fits_the_terminal_and_has_a_bar(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = FakeTty()
    TtyProgress(out, interval=0).update(big_read())
    line = SGR.sub("", out.getvalue().removeprefix(ERASE))
    assert re.match(r"reading: [━╸╺]{8,24} ETA 2h00m · 12,300/", line), line
    assert len(line) < columns, "a wrapped status line could not be rewritten in place"


def test_the_progress_line_has_no_colour_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = FakeTty()
    TtyProgress(out, interval=0).update(big_read())
    assert re.match(r"\r\x1b\[Kreading: [━╸╺ ]{8,24} ETA", out.getvalue())
    assert not SGR.search(out.getvalue())
