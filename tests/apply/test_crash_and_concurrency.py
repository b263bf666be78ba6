"""Real processes: killed at every journal step, and two applies at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.apply.ops import CRASH_STEPS

from .conftest import MAIN, PENGCHENG, QINLING, TIANFU, Env, assert_money_invariant, wait_for

ISSUE = "update_coupon_quotas"
TARGETS = {MAIN: {QINLING: "12000.00", TIANFU: "45000.00", PENGCHENG: "20000.00"}}
# Writes, in order: reclaim qinling's quota; issue 12000.00 (qinling, after its reclaim),
# 15000.00 (tianfu), 20000.00 (pengcheng). ":2" is the first issue, which depends on the reclaim.
CASES = [f"{step}:1" for step in CRASH_STEPS] + ["before-send:2", "after-send:2", "after-send:4"]


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", CASES)
def test_a_process_killed_at_any_journal_step_converges_on_the_rerun(
    env: Env, crash_at: str
) -> None:
    manifests = env.manifests(TARGETS)
    crashed = env.process(
        "apply", manifests, "--auto-approve", extra_env={"RECONCILER_CRASH_AT": crash_at}
    )
    assert crashed.returncode == 137, crashed.stderr

    # A call marked sent with no answer may still be in flight: --wait waits out the horizon.
    rerun = env.cli("apply", manifests, "--auto-approve", "--wait")
    assert rerun.exit_code == 0, rerun.output
    assert "its process is gone" in rerun.output  # the dead run's lease was taken over
    plan = env.cli("plan", manifests, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    for reseller, target in TARGETS[MAIN].items():
        assert env.balance(reseller, MAIN) == Decimal(target)
        assert len(env.issue_records(reseller)) == 1, reseller
    # A reclaim is sent once in total: by the crashed run, or (if it died first) by the rerun.
    assert len(env.calls("reclaim_coupon_quotas")) == 1
    assert env.journal_rows("SELECT COUNT(*) FROM items WHERE state IN ('pending', 'unknown')") == [
        (0,)
    ]
    assert_money_invariant(env)


@pytest.mark.slow
def test_two_concurrent_applies_one_writes_the_other_makes_no_call(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.emu.add_fault(ISSUE, "latency", seconds=6.0)  # the first run holds the lease meanwhile
    first = env.popen("apply", manifests, "--auto-approve")
    try:
        wait_for(lambda: env.calls(ISSUE))
        seq = env.last_seq()
        second = env.process("apply", manifests, "--auto-approve")
        calls_meanwhile = [c for c in env.calls() if c["seq"] > seq]
    finally:
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 1
    assert "is locked by another apply" in second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert "No write was made" in second.stderr
    assert calls_meanwhile == []
    assert len(env.calls(ISSUE)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)
