"""The issue's "done when": ``reconciler emulator serve`` (the real CLI, its own process) answers a
correctly signed ``POST /v2/partners/sub-customers/query`` with the seeded customers and rejects a
wrongly signed one with 401.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.bss import BssClient
from reconciler.bss.signing import sign_for
from reconciler.errors import AuthError

from .harness import DEMO_DOC, open_contract, partner_credentials

LISTENING = re.compile(r"^emulator listening on (http://127\.0\.0\.1:\d+) \(partner AK \S+\)$")
SUB_CUSTOMERS = "/v2/partners/sub-customers/query"


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


@pytest.mark.slow
def test_cli_served_emulator_answers_signed_and_rejects_wrongly_signed(served_url: str) -> None:
    seeded = {c["customer_id"]: c["account_name"] for c in DEMO_DOC["customers"]}

    async def scenario() -> tuple[dict[str, str | None], int, AuthError, httpx.Response]:
        async with BssClient(served_url, partner_credentials()) as good:
            page = await good.list_sub_customers(limit=100)
        async with BssClient(served_url, partner_credentials(sk="wrong-secret")) as bad:
            with pytest.raises(AuthError) as info:
                await bad.list_sub_customers(limit=100)
        # The same request, signed correctly, then one byte of the body changed after signing.
        body = b'{"offset": 0, "limit": 100}'
        url, signed = sign_for(
            "POST", served_url, SUB_CUSTOMERS, query=(), body=body,
            credentials=partner_credentials(), now=time.time(), user_agent="contract-test",
        )  # fmt: skip
        async with httpx.AsyncClient() as http:
            changed = body.replace(b"100", b"99")  # still valid, no longer signed
            tampered = await http.post(url, headers=signed.headers, content=changed)
        found = {c.customer_id: c.account_name for c in page.items}
        return found, page.total, info.value, tampered

    found, total, rejected, tampered = asyncio.run(scenario())
    assert found == seeded
    assert total == len(seeded) == 25
    assert (rejected.status, rejected.error_code) == (401, "APIG.0301")
    assert rejected.request_id
    assert tampered.status_code == 401
    assert tampered.json()["error_code"] == "APIG.0301"


def test_kept_alive_answers_are_not_held_back() -> None:
    """Regression: with Nagle's algorithm on, each response body waited for the client's delayed
    ACK of its headers (~40 ms on Linux), so 25 calls on one connection took over a second."""
    with open_contract("served") as contract:
        contract.control.calls()  # connect first
        start = time.perf_counter()
        for _ in range(25):
            contract.control.calls()
        assert time.perf_counter() - start < 0.5
