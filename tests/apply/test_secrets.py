"""Research T7: secrets canary. No key reaches output, logs, journal, report or manual steps."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from reconciler.emulator import DEFAULT_DOMAIN_ID, EmulatorCredentials
from reconciler.emulator.server import EmulatorServer, make_server

from .conftest import DEMO_DOC, EXAMPLES, Env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[EmulatorServer, str, str]]:
    ak = "CANARYAK" + secrets.token_hex(6).upper()
    sk = "canary-sk-" + secrets.token_hex(16)
    srv = make_server(
        "127.0.0.1",
        0,
        state_file=tmp_path / "served-state.json",
        seed=DEMO_DOC,
        credentials=[EmulatorCredentials(ak, sk)],
        rate_limit=0,
    )
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv, ak, sk
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _forms(value: str) -> set[str]:
    raw = value.encode()
    return {
        value,
        quote(value, safe=""),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
    }


@pytest.mark.slow
def test_no_secret_in_output_logs_journal_report_or_manual_steps(
    env: Env, served: tuple[EmulatorServer, str, str]
) -> None:
    srv, ak, sk = served
    srv.emulator.add_fault("update_coupon_quotas", "http_500")  # an error path too
    extra = {
        "RECONCILER_ENDPOINT": srv.url,
        "HUAWEICLOUD_SDK_AK": ak,
        "HUAWEICLOUD_SDK_SK": sk,
        "HUAWEICLOUD_SDK_DOMAIN_ID": DEFAULT_DOMAIN_ID,
    }
    report, steps = env.root / "report.json", env.root / "steps.md"
    args = ("--debug", "apply", EXAMPLES, "--auto-approve", "--report", report)
    first = env.process(*args, "--manual-steps", steps, extra_env=extra)
    assert first.returncode == 5, first.stderr
    second = env.process(*args, "--wait", extra_env=extra)
    assert second.returncode == 0, second.stderr
    assert "Settled 1 open operation(s)" in second.stderr

    temporary = srv.emulator.state()["temp_credentials"]
    assert temporary, "the auto-renew calls used customer credentials"
    canaries = _forms(ak) | _forms(sk)
    for cred in temporary.values():
        canaries |= _forms(cred["sk"]) | _forms(cred["token"])
    haystacks = {
        "stdout": first.stdout + second.stdout,
        "stderr": first.stderr + second.stderr,
        "report": report.read_text(),
        "manual steps": steps.read_text(),
    }
    for path in env.state_dir.glob("journal.sqlite*"):
        haystacks[path.name] = path.read_bytes().decode("latin-1")
    assert "DEBUG" in haystacks["stderr"]
    for where, text in haystacks.items():
        for canary in canaries:
            assert canary not in text, f"a secret leaked into the {where}"
