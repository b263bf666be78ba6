"""What a person (or a CI log) sees while apply runs: progress lines, and Ctrl-C."""

from __future__ import annotations

import signal
import threading
from decimal import Decimal

import pytest

from .conftest import MAIN, PENGCHENG, SECOND, TIANFU, Env, assert_money_invariant, wait_for

ISSUE = "update_coupon_quotas"
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}


@pytest.mark.slow
def test_without_a_terminal_each_change_is_printed_as_it_completes(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {PENGCHENG: "1000.00"}, SECOND: {TIANFU: "8000.00"}})
    held = env.emu.add_fault(ISSUE, "hold", seconds=120)  # whichever parent's issue comes first
    run = env.popen("apply", manifests, "--auto-approve")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(run.stdout.readline, "")))
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("  applied ") for line in lines))
        assert run.poll() is None  # the other change is still held: the line came first
        assert not any(line.startswith("Apply:") for line in lines)
    finally:
        env.emu.release(held)
        run.wait(timeout=60)
        reader.join(timeout=10)
    assert run.returncode == 0
    assert sum(line.startswith("  applied ") for line in lines) == 2
    assert_money_invariant(env)


@pytest.mark.slow
def test_ctrl_c_names_the_write_in_flight_and_what_the_next_apply_does(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    held = env.emu.add_fault(ISSUE, "hold", seconds=120)
    run = env.popen("apply", manifests, "--auto-approve", extra_env=LONG)
    wait_for(lambda: any(c["held"] for c in env.calls(ISSUE)))
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "Interrupted (run run-" in err
    assert f"issue of 15000.00 from quota {MAIN} to reseller {TIANFU}" in err
    assert "it stays in flight (its pair frozen) until" in err
    assert "apply --wait" in err
    assert "Traceback" not in err

    env.emu.release(held)  # the request lands after all
    wait_for(lambda: env.balance(TIANFU, MAIN) == Decimal("45000.00"))
    seq = env.last_seq()
    again = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert again.returncode == 0, again.stderr
    assert "Settled 1 open operation(s)" in again.stderr
    assert env.writes(since=seq) == []
    assert len(env.issue_records(TIANFU)) == 1
    assert_money_invariant(env)
