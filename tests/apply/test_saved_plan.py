"""``apply --plan FILE``: a reviewed plan is applied only while it is still true."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from reconciler.plan.planfile import seal

from .conftest import MAIN, QINLING, TIANFU, Env, assert_money_invariant

TIANFU_CHILD = "2025080209150301"


def _saved(env: Env, manifests: Path, *extra: str) -> Path:
    out = env.root / "plan.json"
    made = env.cli("plan", manifests, "--out", out, *extra)
    assert made.exit_code == 0, made.output
    return out


def test_a_valid_saved_plan_is_applied_without_a_prompt(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", QINLING: "12000.00"}})
    saved = _saved(env, manifests)
    result = env.cli("apply", "--plan", saved)  # the manifests are found from the plan file
    assert result.exit_code == 0, result.output
    assert "Apply: 2 applied" in result.output
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


def _drift_live(env: Env) -> None:
    env.emu.spend_quota(TIANFU_CHILD, "100.00")  # the reseller spends: its balance moves


def _edit_manifests(env: Env) -> None:
    env.manifests({MAIN: {TIANFU: "46000.00", QINLING: "12000.00"}})


def _expire(env: Env) -> None:
    """The plan was made two hours ago (re-sealed: as if it really had been)."""
    path = env.root / "plan.json"
    data = json.loads(path.read_text())
    data["created_at"], data["expires_at"] = "2019-12-31T23:00:00Z", "2020-01-01T00:00:00Z"
    data["seal"] = seal(data, None)
    path.write_text(json.dumps(data))


def _tamper(env: Env) -> None:
    path = env.root / "plan.json"
    data = json.loads(path.read_text())
    data["changes"][0]["calls"][-1]["body"]["quota_amount"] = "99999.00"
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (
            _drift_live,
            f"reseller-quota/{MAIN}/{TIANFU}: "
            "the live object changed since the plan was made (balance: '30000.00' -> '29900.00')",
        ),
        (_edit_manifests, "the manifests changed since the plan was made"),
        (_expire, "the plan expired at 2020-01-01T00:00:00Z"),
        (_tamper, "the file was modified after it was saved"),
    ],
    ids=["live-state-changed", "manifests-changed", "expired", "tampered"],
)
def test_a_stale_saved_plan_is_refused_with_exit_4_and_no_write(
    env: Env, spoil: object, says: str
) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", QINLING: "12000.00"}})
    saved = _saved(env, manifests)
    spoil(env)  # type: ignore[operator]
    seq = env.last_seq()
    result = env.cli("apply", "--plan", saved)
    assert result.exit_code == 4, result.output
    assert "stale plan" in result.output
    assert "nothing was written" in result.output
    assert says in result.output
    assert env.writes(since=seq) == []


def test_a_change_that_appeared_after_the_plan_makes_it_stale(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", QINLING: "18500.00"}})
    saved = _saved(env, manifests)  # qinling is in sync when the plan is made
    env.emu.spend_quota("2025081506220412", "500.00")
    result = env.cli("apply", "--plan", saved)
    assert result.exit_code == 4
    assert f"reseller-quota/{MAIN}/{QINLING}: issue is needed now but not in the saved plan" in (
        result.output
    )
    assert env.writes() == []


def test_guard_overrides_come_from_the_apply_command_line(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "80000.00"}}, per_reseller="10000.00")
    saved = _saved(env, manifests, "--allow", "max-issue-per-reseller")
    refused = env.cli("apply", "--plan", saved)
    assert refused.exit_code == 3, refused.output
    assert "pass --allow max-issue-per-reseller to apply it" in refused.output
    assert env.writes() == []
    result = env.cli("apply", "--plan", saved, "--allow", "max-issue-per-reseller")
    assert result.exit_code == 0, result.output
    assert env.balance(TIANFU, MAIN) == Decimal("80000.00")
