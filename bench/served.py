"""The served emulator for the benchmark: ``reconciler emulator generate`` and ``serve``, in their
own processes, exactly as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.emulator.credentials import DEFAULT_CREDENTIALS

LISTENING = "emulator listening on "


def cli() -> list[str]:
    """How to run the ``reconciler`` command of this environment."""
    script = Path(sys.executable).with_name("reconciler")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reconciler.cli.main"]


def generate(customers: int, out: Path, seed: int) -> float:
    """``reconciler emulator generate``; returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [*cli(), "emulator", "generate", "--customers", str(customers),
         "--random-seed", str(seed), str(out)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


@contextmanager
def serve(
    seed_file: Path,
    *,
    rate_limit: float = 0.0,
    latency: tuple[float, float] | None = None,
    state_file: Path | None = None,
    startup_timeout: float = 600.0,
) -> Iterator[tuple[str, float]]:
    """``reconciler emulator serve`` on a free port; yields its URL and how long it took to be
    ready. In memory unless ``state_file`` is given."""
    command = [*cli(), "emulator", "serve", "--port", "0", "--seed", str(seed_file),
               "--rate-limit", str(rate_limit)]  # fmt: skip
    command += ["--state", str(state_file)] if state_file else ["--in-memory"]
    if latency:
        command += ["--latency-median", str(latency[0]), "--latency-p99", str(latency[1])]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        url = _url(proc, startup_timeout)
        yield url, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _url(proc: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0].startswith(LISTENING):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise RuntimeError(f"reconciler emulator serve did not start: {err.strip()[-500:]}")
    return line[0][len(LISTENING) :].split()[0]


def calls(url: str) -> list[dict[str, Any]]:
    """The served emulator's call log."""
    import httpx

    found: list[dict[str, Any]] = httpx.get(f"{url}/_emulator/calls", timeout=60).json()["calls"]
    return found


def credentials_env(url: str, rate: float) -> dict[str, str]:
    """The environment ``reconciler plan`` needs to talk to the served emulator."""
    creds = DEFAULT_CREDENTIALS
    return {
        "RECONCILER_ENDPOINT": url,
        "HUAWEICLOUD_SDK_AK": creds.ak,
        "HUAWEICLOUD_SDK_SK": creds.sk,
        "HUAWEICLOUD_SDK_DOMAIN_ID": creds.domain_id,
        "RECONCILER_RATE": str(rate),
    }


def run_json(args: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``python -m <args>`` and parse the JSON object it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
