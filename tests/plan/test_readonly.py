"""Read-only credentials (as in CI for pull requests and drift) against a served emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.connect import default_seed
from reconciler.emulator import (
    DEFAULT_DOMAIN_ID,
    DEFAULT_READONLY_AK,
    DEFAULT_READONLY_SK,
)
from reconciler.emulator.server import make_server

from .conftest import EXAMPLES, Env


@pytest.fixture
def readonly(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    srv = make_server(
        "127.0.0.1", 0, state_file=tmp_path / "served.json", seed=default_seed(), rate_limit=0
    )
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("RECONCILER_ENDPOINT", srv.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", DEFAULT_READONLY_AK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", DEFAULT_READONLY_SK)
    monkeypatch.setenv("HUAWEICLOUD_SDK_DOMAIN_ID", DEFAULT_DOMAIN_ID)
    monkeypatch.setenv("RECONCILER_AGENCY_NAME", "demo_distributor_platform")
    try:
        yield env
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def test_without_assume_permission_every_agency_check_is_refused(readonly: Env) -> None:
    out = readonly.run("plan", str(EXAMPLES)).stdout
    assert "Auto-renew (" not in out
    assert "or the credentials running the plan may not assume agencies" in out


def test_skip_agency_check_plans_auto_renew_with_a_note(readonly: Env) -> None:
    result = readonly.run("plan", str(EXAMPLES), "--skip-agency-check")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Auto-renew (5)" in out, "lingyun-games is planned too: its agency is not checked"
    assert "agency not verified (planned with --skip-agency-check)" in out
    assert "the resource is expired" in out, "expired resources are still not applicable"


def test_drift_with_read_only_credentials(readonly: Env) -> None:
    result = readonly.run("drift", str(EXAMPLES), "--skip-agency-check", "--format", "json")
    assert result.exit_code == 2, result.output
    assert '"heal": "apply"' in result.stdout
