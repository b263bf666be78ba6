"""AccountFunds as real processes: killed at every journal step, two applies at once, a transfer
held in flight while apply is killed, and two applies with two journals (served emulator).

A transfer whose answer died with the process and whose ledger record appeared cannot be proven
ours (the ledger names no operator): its recipient stays frozen, the rest applies, and a person
settles it (``reconciler journal settle``) before the account converges."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.apply.conftest import wait_for
from tests.apply.scenarios import (
    concurrent_applies,
    crash_points,
    killed_at,
    killed_in_flight,
    laptop,
)

from .funds_env import (
    FUND_CUSTOMER,
    FUND_RESELLER,
    HAINA,
    RUIXIN,
    SHU,
    TIANFU,
    Env,
    Want,
    assert_cash_invariant,
    cash,
    manifests,
    second_writer_stopped,
    writes,
)

D = Decimal
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
CUSTOMERS = [Want(HAINA, cap="15000.00"), Want(RUIXIN, floor="5000.00"),
             Want(SHU, floor="5000.00", reseller=TIANFU)]  # fmt: skip
RESELLERS = [Want(TIANFU, floor="60000.00")]
TARGETS = {HAINA: "15000.00", RUIXIN: "5000.00", SHU: "5000.00", TIANFU: "60000.00"}
# Writes, in order: 1. reclaim from haina, 2. fund tianfu, 3./4. fund ruixin and shu-brocade.
CASES = crash_points("before-send:2", "after-send:2", "after-send:4")


def _converged(env: Env, folder: Path, extra: dict[str, str] | None = None) -> None:
    plan = env.process("plan", folder, "--detailed-exitcode", extra_env=extra)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    live = cash(env.state())
    assert {who: live[who] for who in TARGETS} == {k: D(v) for k, v in TARGETS.items()}
    seq = env.last_seq()
    again = env.process("apply", folder, "--auto-approve", extra_env=extra)
    assert again.returncode == 0, again.stderr
    assert writes(env, since=seq) == []


def _settle_by_hand(env: Env, *, committed: bool) -> None:
    """A person checked the ledger and the balance of the one open transfer."""
    [(op_id,)] = env.journal_rows("SELECT DISTINCT op_id FROM items WHERE state = 'pending'")
    answer = "--committed" if committed else "--not-committed"
    settled = env.process("journal", "settle", op_id, answer, "--checked-api-records")
    assert settled.returncode == 0, settled.stderr


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", CASES)
def test_a_process_killed_at_any_journal_step_converges_on_the_rerun(
    env: Env, crash_at: str
) -> None:
    folder = manifests(env, CUSTOMERS, RESELLERS)
    rerun = killed_at(env, folder, crash_at)
    if crash_at.startswith("after-send"):  # sent and answered, the answer lost with the process
        assert rerun.exit_code == 5, rerun.output
        assert "(unknown owner)" in rerun.output and "may or may not have taken effect" in (
            rerun.output
        )
        _settle_by_hand(env, committed=True)
    else:
        assert rerun.exit_code == 0, rerun.output
    _converged(env, folder)
    assert len(writes(env)) <= 4 + (1 if crash_at.startswith("before-send") else 0)
    assert env.journal_rows("SELECT COUNT(*) FROM items WHERE state IN ('pending', 'unknown')") == [
        (0,)
    ]
    assert_cash_invariant(env)


@pytest.mark.slow
def test_two_concurrent_applies_one_writes_the_other_makes_no_call(env: Env) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")])
    both = concurrent_applies(env, FUND_CUSTOMER, folder)
    assert both.first.returncode == 0, both.first.stderr
    assert both.second.returncode == 1
    assert "is locked by another apply" in both.second.stderr
    assert both.calls_meanwhile == []
    assert len(env.calls(FUND_CUSTOMER)) == 1
    assert_cash_invariant(env)


@pytest.mark.slow
def test_a_transfer_held_in_flight_when_apply_is_killed_is_never_made_twice(
    served_env: Env,
) -> None:
    env = served_env
    folder = manifests(env, CUSTOMERS, RESELLERS)
    held = killed_in_flight(env, FUND_RESELLER, folder, extra_env=LONG)  # tianfu's top-up

    seq = env.last_seq()
    rerun = env.process("apply", folder, "--auto-approve", extra_env=LONG)
    assert rerun.returncode == 5, rerun.stderr
    assert "may still be in flight" in rerun.stderr
    # tianfu is frozen, and so is shu-brocade's transfer that tianfu's top-up pays for
    assert "1 frozen" in rerun.stdout
    assert [c["operation"] for c in writes(env, since=seq)] == [FUND_CUSTOMER]  # ruixin only
    assert cash(env.state())[TIANFU] == D("57000.00")

    env.emu.release(held)  # the held top-up goes on and commits
    wait_for(lambda: cash(env.state())[TIANFU] == D("62000.00"))
    after = env.process("apply", folder, "--auto-approve", extra_env=LONG)
    assert after.returncode == 5, after.stderr  # its record cannot be proven ours
    assert "(unknown owner)" in after.stderr
    assert "1 applied" in after.stdout  # shu-brocade, paid from the top-up that landed
    assert len(env.calls(FUND_CUSTOMER)) == 2  # ruixin and shu-brocade, once each
    _settle_by_hand(env, committed=True)
    assert len(env.calls(FUND_RESELLER)) == 1
    _converged(env, folder, LONG)
    assert_cash_invariant(env)


@pytest.mark.slow
def test_two_applies_with_two_journals_stop_the_second_writer(served_env: Env) -> None:
    env = served_env
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")])
    second_writer_stopped(env, folder, laptop(env))
    assert cash(env.state())[RUIXIN] == D("5000.00")
