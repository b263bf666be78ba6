"""Real processes: killed at every journal step, and two applies at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import MAIN, PENGCHENG, QINLING, TIANFU, Env, assert_money_invariant
from .scenarios import concurrent_applies, crash_points, killed_at

ISSUE = "update_coupon_quotas"
TARGETS = {MAIN: {QINLING: "12000.00", TIANFU: "45000.00", PENGCHENG: "20000.00"}}
# Writes, in order: reclaim qinling's quota; issue 12000.00 (qinling, after its reclaim),
# 15000.00 (tianfu), 20000.00 (pengcheng). ":2" is the first issue, which depends on the reclaim.
CASES = crash_points("before-send:2", "after-send:2", "after-send:4")


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", CASES)
def test_a_process_killed_at_any_journal_step_converges_on_the_rerun(
    env: Env, crash_at: str
) -> None:
    manifests = env.manifests(TARGETS)
    # A call marked sent with no answer may still be in flight: the rerun's --wait waits out
    # the horizon; it takes over the dead run's lease ("its process is gone").
    rerun = killed_at(env, manifests, crash_at)
    assert rerun.exit_code == 0, rerun.output
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
    both = concurrent_applies(env, ISSUE, manifests)
    second = both.second
    assert both.first.returncode == 0, both.first.stderr
    assert second.returncode == 1
    assert "is locked by another apply" in second.stderr
    assert f"pid {both.first.pid}" in second.stderr
    assert "No write was made" in second.stderr
    assert both.calls_meanwhile == []
    assert len(env.calls(ISSUE)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)
