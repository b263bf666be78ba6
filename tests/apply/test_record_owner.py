"""A record proves only what it carries: whose it is must be proven, never assumed.

Each case is an outside review's attack (or a hole it found by reading the code), through the CLI
against the served emulator:

* an issue that committed but was never linked to its record (the run was killed right after
  recording the outcome) made a later run take another journal's record of the same reseller and
  amount for its own: issued twice;
* a record without ``operator`` counted as another operator's, so a committed issue was settled
  "not committed" (the journal lost 15,000.00); a reclaim record without ``remark`` was "reclaimed
  by someone else";
* a record whose remark copies one of our operation ids counted as ours (another writer hidden);
* the operator was learned from any record on the quota an answer returned, overwriting what the
  journal knew without a conflict check.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from reconciler.apply.journal import Journal
from reconciler.emulator import quotas

from .conftest import MAIN, QINLING, QINLING_CHILD, TIANFU, Env, assert_money_invariant, wait_for
from .scenarios import killed_in_flight, laptop_while_held, while_held

ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
RECORDS = "list_coupon_quotas_records"
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
PARTNER = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"


def _items(env: Env) -> list[tuple[str, str, str | None]]:
    jrnl = Journal.open(env.journal_file)
    try:
        return [(op.operation, i.state, i.record_id) for op in jrnl.operations() for i in op.items]
    finally:
        jrnl.close()


def test_an_issue_committed_but_not_linked_never_explains_another_journals_record(
    served_env: Env,
) -> None:
    """Run 1 is killed after recording its issue's outcome, before linking it to its record.
    The target is raised; the runner's run 2 and a laptop (another journal) apply it while run
    2's records check is held: run 2 must see the laptop's record as another writer's."""
    env = served_env
    first = env.process(
        "apply", env.manifests({MAIN: {TIANFU: "45000.00"}}), "--auto-approve",
        extra_env={**LONG, "RECONCILER_CRASH_AT": "after-outcome"},
    )  # fmt: skip
    assert first.returncode == 137, first.stderr
    assert [(s, r) for _, s, r in _items(env)] == [("committed", None)]
    time.sleep(2.5)  # the next run starts after this one's answer, on any clock

    more = env.manifests({MAIN: {TIANFU: "60000.00"}}, name="more")
    # The laptop looks for other writers only since its own start, so it does not see run 1's
    # issue of 2.5 s ago and issues: the other writer that run 2 must see.
    runner = laptop_while_held(env, RECORDS, more, extra_env=LONG)
    assert runner.returncode == 5, (runner.stdout, runner.stderr)
    assert "another writer is active on this pair" in runner.stdout
    assert len(env.issue_records(TIANFU)) == 2  # run 1's and the laptop's, not a third
    assert env.balance(TIANFU, MAIN) == Decimal("60000.00")
    # Run 2 linked run 1's issue to its own record (on the quota run 1's answer returned).
    assert [r is not None for _, s, r in _items(env) if s == "committed"] == [True]


def test_an_issue_record_without_operator_never_settles_a_commit_as_not_committed(
    served_env: Env,
) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    short = {"RECONCILER_IN_FLIGHT_HORIZON": "3"}
    held = killed_in_flight(env, ISSUE, manifests, extra_env=short)
    env.emu.release(held)  # the held issue lands: committed
    wait_for(lambda: env.balance(TIANFU, MAIN) == Decimal("45000.00"))
    env.emu.add_fault(RECORDS, "field", count=1000, field="operator")
    time.sleep(3.5)  # past the horizon: only the records can decide now

    seq = env.last_seq()
    rerun = env.process("apply", manifests, "--auto-approve", extra_env=short)
    assert rerun.returncode == 5, rerun.stderr
    assert "without an operator" in rerun.stderr
    assert "frozen" in rerun.stderr
    assert env.writes(since=seq) == []
    [(_, state, _)] = _items(env)
    assert state == "pending"  # open, never "settled-not-committed"

    env.emu.clear_faults()
    settled = env.process("apply", manifests, "--auto-approve", extra_env=short)
    assert settled.returncode == 0, settled.stderr
    assert [s for _, s, _ in _items(env)] == ["settled-committed"]
    assert len(env.issue_records(TIANFU)) == 1
    assert_money_invariant(env)


def test_a_reclaim_record_without_remark_never_settles_a_reclaim_as_someone_elses(
    served_env: Env,
) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {QINLING: "10000.00"}})
    env.emu.add_fault(RECORDS, "field", count=1000, field="remark")
    env.emu.add_fault(RECLAIM, "commit_then_drop")
    first = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert first.returncode == 5, first.stderr
    assert [(o, s) for o, s, _ in _items(env)] == [(RECLAIM, "unknown")]

    seq = env.last_seq()
    rerun = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert rerun.returncode == 5, rerun.stderr
    assert "reclaimed by someone else" not in rerun.stderr
    assert "without a remark" in rerun.stderr
    assert env.writes(since=seq) == []
    assert [s for _, s, _ in _items(env)] == ["unknown"]

    env.emu.clear_faults()
    done = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert done.returncode == 0, done.stderr
    assert env.balance(QINLING, MAIN) == Decimal("10000.00")
    assert_money_invariant(env)


def _reclaim_as(env: Env, operator: str, quota_id: str, remark: str) -> None:
    """Another operator (an IAM user of the same account) reclaims a quota in Partner Center,
    with a remark copied from one of our records."""
    emu = env.emu

    def act(state: Any) -> None:
        writer = quotas.Writer(operator, emu.clock.time(), 0.0, 0, {})
        quotas.reclaim(state, [quota_id], remark, writer)

    emu._mutate(act)


def _remark_of(env: Env, quota_id: str) -> str:
    [remark] = [
        r["remark"]
        for r in env.state()["records"]
        if r["quota_id"] == quota_id and r["operation_type"] == "11"
    ]
    return str(remark)


def test_a_copied_remark_never_makes_another_writers_record_ours(served_env: Env) -> None:
    env = served_env
    first = env.process("apply", env.manifests({MAIN: {QINLING: "10000.00"}}), "--auto-approve")
    assert first.returncode == 0, first.stderr
    ours = _remark_of(env, QINLING_CHILD)
    assert ours.startswith("partner-reconciler op-")
    [child] = [
        q["quota_id"]
        for q in env.state()["quotas"].values()
        if q["indirect_partner_id"] == QINLING and q["quota_status"] == 0
    ]

    more = env.manifests({MAIN: {QINLING: "12000.00"}}, name="more")

    def copied() -> int:
        seq = env.last_seq()
        _reclaim_as(env, "ops.li", child, ours)  # someone copies our remark
        return seq

    runner, seq = while_held(env, RECORDS, more, copied)
    assert runner.returncode == 5, (runner.stdout, runner.stderr)
    assert "another writer is active on this pair" in runner.stdout
    assert env.writes(since=seq) == []


def test_the_operator_is_never_relearned_from_a_record_that_disagrees(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "40000.00"}})
    settings = manifests / "settings.yaml"
    settings.write_text(settings.read_text().replace("  operator: demo-distributor\n", ""))
    first = env.process("apply", manifests, "--auto-approve")
    assert first.returncode == 0, first.stderr
    assert _learned(env)[0] == "demo-distributor"

    (manifests / "quotas.yaml").write_text(
        (manifests / "quotas.yaml").read_text().replace("40000.00", "45000.00")
    )
    env.emu.add_fault(RECORDS, "field", count=1000, field="operator", value="ops.li")
    second = env.process("apply", manifests, "--auto-approve")
    assert "names operator 'ops.li'" in second.stderr, second.stderr
    assert "learned 'demo-distributor'" in second.stderr
    assert _learned(env)[0] == "demo-distributor"


def _learned(env: Env) -> tuple[str, str]:
    jrnl = Journal.open(env.journal_file)
    try:
        learned = jrnl.operator(PARTNER)
    finally:
        jrnl.close()
    assert learned is not None
    return learned
