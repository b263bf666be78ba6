"""Answers a decision cannot trust stop it, and what apply says afterwards is true.

Each case is an outside review's attack, through the CLI against the served emulator: a negative
balance (the plan issued 50,000 and 21,000 on it), an amount out of Decimal's range ("Internal
error: InvalidOperation"), records whose ``operation_time`` is a number, has a space or an
offset (another journal's record fell outside the records check's window: issued twice), an
issue answer without the ``quota_id`` (the item counted as committed but never attributed: a
later run took another journal's record for its own), and records without ``amount`` after a
committed issue ("nothing was written", although 15,000.00 had been).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from .conftest import MAIN, PENGCHENG, SECOND, TIANFU, Env, assert_money_invariant
from .scenarios import laptop_while_held, second_writer

ISSUE = "update_coupon_quotas"
ISSUED = "list_issued_coupon_quotas"
QUOTAS = "list_quota_coupons"
RECORDS = "list_coupon_quotas_records"

PLAN_CASES = [
    # (operation, field, value, what the error says)
    (ISSUED, "balance", "-5000.00", "balance is '-5000.00', negative where the API promises >= 0"),
    (ISSUED, "quota_value", "-1.00", "quota_value is '-1.00', negative where the API promises"),
    (ISSUED, "balance", "1e400", "balance is '1e400', not an amount"),
    (QUOTAS, "balance", "-0.01", "balance is '-0.01', negative where the API promises >= 0"),
    (QUOTAS, "balance", "-1E+400", "balance is '-1E+400', not an amount"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("operation", "field", "value", "says"), PLAN_CASES, ids=[f"{c[1]}={c[2]}" for c in PLAN_CASES]
)
def test_an_amount_the_api_never_gives_stops_apply_before_any_write(
    served_env: Env, operation: str, field: str, value: str, says: str
) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}, SECOND: {PENGCHENG: "16000.00"}})
    env.emu.add_fault(operation, "field", count=1000, field=field, value=value)
    result = env.process("apply", manifests, "--auto-approve")
    assert result.returncode == 1, result.stdout
    assert f"({operation}) answered without a usable field: quotas[0] (quota_id " in result.stderr
    assert says in result.stderr
    assert "Internal error" not in result.stderr
    assert env.writes() == []
    assert env.balance(TIANFU, MAIN) == Decimal("30000.00")


def _time_formats() -> dict[str, Any]:
    now = time.time()
    return {
        "epoch-ms": 1796000000000,
        "space": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)),
        "offset": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(now - 86400)),
    }


@pytest.mark.slow
@pytest.mark.parametrize("form", ["epoch-ms", "space", "offset"])
def test_a_record_time_in_another_form_never_hides_another_writer(
    served_env: Env, form: str
) -> None:
    """Two journals (as in test_exactly_once), the records' operation_time in another form."""
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    value = _time_formats()[form]
    env.emu.add_fault(RECORDS, "field", count=1000, field="operation_time", value=value)
    second, first = second_writer(env, RECORDS, manifests)
    says = f"operation_time is {value!r}, not a time in the form yyyy-MM-ddTHH:mm:ssZ"
    assert second.returncode == 5, (second.stdout, second.stderr)
    assert says in second.stdout and "stopped before any write" in second.stdout
    # The first run issued (its check saw no record yet), then could not read its own record:
    # it says what it wrote, exit 5.
    assert first.returncode == 5, first.stderr
    assert says in first.stdout
    assert "[op-" in first.stdout and "]: written (committed)" in first.stdout
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


@pytest.mark.slow
def test_records_without_amount_after_an_issue_say_what_was_written(served_env: Env) -> None:
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.emu.add_fault(RECORDS, "field", count=1000, field="amount")
    result = env.process("apply", manifests, "--auto-approve")
    assert result.returncode == 5, result.stderr
    assert "nothing was written" not in result.stdout + result.stderr
    assert (
        f"issue of 15000.00 from quota {MAIN} to reseller {TIANFU} [op-" in result.stdout
        and "]: written (committed)" in result.stdout
    )
    assert "then stopped: GET /v2/partners/coupon-quotas/records" in result.stdout
    assert "amount is missing" in result.stdout
    assert "0 applied, 0 failed, 0 manual, 1 unknown; issued 15,000.00 CNY" in result.stdout
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    env.emu.clear_faults()
    seq = env.last_seq()
    again = env.process("apply", manifests, "--auto-approve")
    assert again.returncode == 0, again.stderr
    assert env.writes(since=seq) == []
    assert_money_invariant(env)


@pytest.mark.slow
def test_an_issue_answer_without_its_quota_id_is_never_an_unattributed_commit(
    served_env: Env,
) -> None:
    """Run 1's issue answer lacks the quota_id: the item is unknown, settled from its record
    at once (never 'committed' without the record that proves it). Later the target is raised;
    the runner's run 2 and a laptop (another journal) apply it while run 2's records check is
    held: run 2 sees the laptop's record as another writer's, not as run 1's."""
    env = served_env
    env.emu.add_fault(ISSUE, "field", count=1, field="quota_id")
    first = env.process("apply", env.manifests({MAIN: {TIANFU: "45000.00"}}), "--auto-approve")
    assert first.returncode == 0, first.stderr
    [(state, record_id, quota_id, detail)] = env.journal_rows(
        "SELECT state, record_id, quota_id, detail FROM items"
    )
    assert state == "settled-committed" and record_id and quota_id, detail
    assert "issue record" in detail

    # The laptop's window (no allowance) begins a second or two before its start: run 1's record
    # must be older than that however fast the machine is.
    time.sleep(3.0)
    more = env.manifests({MAIN: {TIANFU: "60000.00"}}, name="more")
    # The laptop looks for other writers only since its own start, so it does not see run 1's
    # issue seconds ago and issues.
    runner = laptop_while_held(env, RECORDS, more)
    assert runner.returncode == 5, (runner.stdout, runner.stderr)
    assert "another writer is active on this pair" in runner.stdout
    assert len(env.issue_records(TIANFU)) == 2  # run 1's and the laptop's, not a third
    assert env.balance(TIANFU, MAIN) == Decimal("60000.00")
