"""``contract``: a ready client and emulator handle, once per mode (in-process and served);
``served_url``: ``reconciler emulator serve`` (the real CLI) in its own process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import MODES, Contract, open_contract

LISTENING = re.compile(r"^emulator listening on (http://127\.0\.0\.1:\d+) \(partner AK \S+\)$")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contract(mode: str) -> Iterator[Contract]:
    with open_contract(mode) as ready:
        yield ready


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The process's first stdout line, or a failure naming what it printed instead."""
    line: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        pytest.fail(f"reconciler emulator serve did not start: {err.strip()}")
    return line[0].strip()


@pytest.fixture
def served_url(tmp_path: Path) -> Iterator[str]:
    """``reconciler emulator serve --port 0`` in its own process; yields its URL."""
    cli = Path(sys.executable).with_name("reconciler")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "reconciler.cli.main"]
    state = tmp_path / "emulator-state.json"
    proc = subprocess.Popen(
        [
            *command,
            "emulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--state",
            str(state),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        found = LISTENING.match(_first_line(proc, timeout=15))
        assert found, "unexpected first line from reconciler emulator serve"
        yield found.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if SIGTERM is ignored
            proc.kill()
            proc.wait(timeout=5)
