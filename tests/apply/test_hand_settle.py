"""``reconciler journal settle`` never unfreezes a call that may still land.

An outside review settled an issue held in flight by hand (``--not-committed``, seconds after it
was sent), applied, and then the held request landed: the reseller got the money twice. Settling
is refused while the call was sent less than the in-flight horizon ago, unless the person says
with ``--checked-api-records`` that the API's records decide it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import MAIN, TIANFU, Env, assert_money_invariant, wait_for
from .scenarios import killed_in_flight

ISSUE = "update_coupon_quotas"
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}


def _sent_op(env: Env) -> str:
    [(op_id,)] = env.journal_rows("SELECT op_id FROM operations WHERE state = 'sent'")
    return str(op_id)


@pytest.mark.slow
def test_a_call_held_in_flight_cannot_be_settled_by_hand(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    held = killed_in_flight(env, ISSUE, manifests, extra_env=LONG)
    rerun = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert rerun.returncode == 5, rerun.stderr
    op_id = _sent_op(env)

    for answer in ("--not-committed", "--committed"):
        refused = env.process("journal", "settle", op_id, answer, extra_env=LONG)
        assert refused.returncode == 1, refused.stdout
        assert "less than the in-flight horizon (600 s) ago" in refused.stderr
        assert "Nothing was settled" in refused.stderr
        assert "--checked-api-records" in refused.stderr
        assert f"parent_quota_id={MAIN}&operation_type=10" in refused.stderr  # where to look
    assert env.journal_rows("SELECT state FROM items WHERE op_id = ?", op_id) == [("pending",)]

    seq = env.last_seq()
    frozen = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert frozen.returncode == 5, frozen.stderr
    assert "may still be in flight" in frozen.stderr
    assert env.writes(since=seq) == []

    env.emu.release(held)  # the held request lands
    wait_for(lambda: env.balance(TIANFU, MAIN) == Decimal("45000.00"))
    seq = env.last_seq()
    settled = env.process("apply", manifests, "--auto-approve", extra_env=LONG)
    assert settled.returncode == 0, settled.stderr
    assert env.writes(since=seq) == []
    assert len(env.issue_records(TIANFU)) == 1
    assert_money_invariant(env)


def test_settling_by_hand_needs_the_horizon_or_the_flag(env: Env) -> None:
    """In process: a call killed right after its send was marked (nothing reached the API)."""
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    killed = env.process(
        "apply", manifests, "--auto-approve", extra_env={"RECONCILER_CRASH_AT": "before-send"}
    )
    assert killed.returncode == 137
    op_id = _sent_op(env)
    refused = env.cli("journal", "settle", op_id, "--not-committed", extra_env=LONG)
    assert refused.exit_code == 1
    assert "may still be held by the API gateway" in refused.output

    checked = env.cli(
        "journal", "settle", op_id, "--not-committed", "--checked-api-records", extra_env=LONG
    )
    assert checked.exit_code == 0, checked.output
    assert f"{op_id}: 1 item(s) settled as not committed." in checked.output
    assert env.journal_rows("SELECT state FROM items WHERE op_id = ?", op_id) == [
        ("settled-not-committed",)
    ]


def test_past_the_horizon_settling_by_hand_needs_no_flag(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.process(
        "apply", manifests, "--auto-approve", extra_env={"RECONCILER_CRASH_AT": "before-send"}
    )
    op_id = _sent_op(env)
    now = {"RECONCILER_IN_FLIGHT_HORIZON": "0"}
    settled = env.cli("journal", "settle", op_id, "--not-committed", extra_env=now)
    assert settled.exit_code == 0, settled.output
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)
