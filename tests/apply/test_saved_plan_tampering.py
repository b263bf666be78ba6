"""A saved plan cannot widen an apply: what an attacker who can edit plan.json would try.

The plan file is written by the plan job and read by the apply job (an artifact, a shared disk).
Whoever can write it can recompute an unkeyed seal, so apply never takes anything from it that
lets it do more than a fresh plan with its own flags would; with ``RECONCILER_PLAN_KEY`` every
edit is detected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.model import fingerprint
from reconciler.plan.planfile import seal

from .conftest import MAIN, TIANFU, Env

KEY = "k" * 40
OTHER_KEY = "o" * 40
#: The issue's case: one reseller up by 100.00 against a run limit of 50.00.
SETTINGS = """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  guards:
    maxChangePercent: 100
    maxIssuePerRun: "50.00"
    maxIssuePerReseller: "900000.00"
    maxReclaimsPerRun: 50
  planTtl: 1h
"""


def _manifests(env: Env) -> Path:
    folder = env.manifests({MAIN: {TIANFU: "30100.00"}})
    (folder / "settings.yaml").write_text(SETTINGS)
    return folder


def _plan(env: Env, *flags: str, key: str | None = None) -> tuple[Path, dict[str, Any]]:
    out = env.root / "plan.json"
    extra = {"RECONCILER_PLAN_KEY": key} if key else {}
    made = env.cli("plan", _manifests(env), "--out", out, *flags, extra_env=extra)
    assert made.exit_code in (0, 3), made.output
    return out, json.loads(out.read_text())


def _save(path: Path, data: dict[str, Any], key: str | None = None) -> None:
    """Write ``data`` back with a valid checksum and a seal an attacker can compute."""
    content = {
        k: v
        for k, v in data.items()
        if k
        not in ("tool_version", "created_at", "expires_at", "checksum", "manifest_paths", "seal")
    }
    data["checksum"] = fingerprint(content)
    if key is None:
        data["seal"] = seal(data, None)
    else:
        from reconciler.bss.credentials import Secret

        data["seal"] = seal(data, Secret(key))
    path.write_text(json.dumps(data))


@dataclass
class Applied:
    exit_code: int
    output: str
    writes: list[dict[str, Any]]


def _apply(env: Env, plan: Path, *flags: str, key: str | None = None) -> Applied:
    seq = env.last_seq()
    extra = {"RECONCILER_PLAN_KEY": key} if key else {}
    result = env.cli("apply", "--plan", plan, *flags, extra_env=extra)
    return Applied(result.exit_code, result.output, env.writes(since=seq))


def test_an_allowance_added_to_a_blocked_plan_and_resealed_is_ignored(env: Env) -> None:
    path, data = _plan(env)
    assert data["summary"]["blocked"] is True
    for guard in data["guards"]:
        if guard["name"] == "max-issue-per-run":
            guard["overridden"] = True
    data["summary"]["blocked"] = False
    _save(path, data)
    result = _apply(env, path)
    assert result.exit_code == 3, result.output
    assert "guard max-issue-per-run: 100.00 against a limit of 50.00" in result.output
    assert "Nothing was written" in result.output
    assert result.writes == []
    assert env.balance(TIANFU, MAIN) == Decimal("30000.00")


def test_the_apply_command_line_decides_the_overrides(env: Env) -> None:
    path, _ = _plan(env)
    result = _apply(env, path, "--allow", "max-issue-per-run")
    assert result.exit_code == 0, result.output
    assert env.balance(TIANFU, MAIN) == Decimal("30100.00")


def test_an_expiry_moved_into_the_future_is_refused(env: Env) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run")
    data["created_at"], data["expires_at"] = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
    _save(path, data)  # even with a seal that matches
    result = _apply(env, path, "--allow", "max-issue-per-run")
    assert result.exit_code == 4, result.output
    assert "expires_at is not created_at + Settings spec.planTtl" in result.output
    assert result.writes == []


def test_an_expiry_edited_without_resealing_is_refused(env: Env) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run")
    data["expires_at"] = "2099-01-01T00:00:00Z"
    path.write_text(json.dumps(data))
    result = _apply(env, path, "--allow", "max-issue-per-run")
    assert result.exit_code == 4, result.output
    assert "its seal does not match" in result.output
    assert result.writes == []


def test_a_plan_from_the_future_is_refused(env: Env) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run")
    data["created_at"], data["expires_at"] = "2098-12-31T23:00:00Z", "2099-01-01T00:00:00Z"
    _save(path, data)
    result = _apply(env, path, "--allow", "max-issue-per-run")
    assert result.exit_code == 4, result.output
    assert "claims to be made in the future" in result.output


def test_a_plan_without_a_seal_is_refused(env: Env) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run")
    del data["seal"]
    path.write_text(json.dumps(data))
    result = _apply(env, path, "--allow", "max-issue-per-run")
    assert result.exit_code == 4, result.output
    assert "the file has no seal" in result.output


def test_a_keyed_plan_applies_with_the_key(env: Env) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run", key=KEY)
    assert data["seal"].startswith("hmac-sha256:")
    result = _apply(env, path, "--allow", "max-issue-per-run", key=KEY)
    assert result.exit_code == 0, result.output
    assert KEY not in result.output
    assert env.balance(TIANFU, MAIN) == Decimal("30100.00")


UNEDITED = "unedited"


@pytest.mark.parametrize(
    ("plan_key", "forged_with", "apply_key", "says"),
    [
        (None, UNEDITED, KEY, "the plan is not sealed with RECONCILER_PLAN_KEY"),
        (KEY, None, KEY, "the plan is not sealed with RECONCILER_PLAN_KEY"),
        (KEY, OTHER_KEY, KEY, "its seal does not match"),
        (KEY, UNEDITED, OTHER_KEY, "its seal does not match"),
        (KEY, UNEDITED, None, "the plan is sealed with a key: set RECONCILER_PLAN_KEY"),
    ],
    ids=[
        "unkeyed-plan-while-the-key-is-set",
        "expiry-forged-and-resealed-without-the-key",
        "expiry-forged-and-resealed-with-another-key",
        "applied-with-another-key",
        "applied-without-the-key",
    ],
)
def test_with_a_key_every_forgery_is_refused(
    env: Env, plan_key: str | None, forged_with: str | None, apply_key: str | None, says: str
) -> None:
    path, data = _plan(env, "--allow", "max-issue-per-run", key=plan_key)
    if forged_with != UNEDITED:
        data["created_at"], data["expires_at"] = "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z"
        _save(path, data, forged_with)
    result = _apply(env, path, "--allow", "max-issue-per-run", key=apply_key)
    assert result.exit_code == 4, result.output
    assert says in result.output
    assert result.writes == []


def test_a_key_too_short_to_be_a_key_is_an_error(env: Env) -> None:
    out = env.root / "plan.json"
    made = env.cli(
        "plan", _manifests(env), "--out", out, extra_env={"RECONCILER_PLAN_KEY": "secret"}
    )
    assert made.exit_code == 1
    assert "RECONCILER_PLAN_KEY is shorter than 32 characters" in made.output
    assert not out.exists()
