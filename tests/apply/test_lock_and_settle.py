"""The lease lock, and operations the API's records cannot settle."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal

import pytest

from reconciler.apply.journal import ItemSpec, Journal, OpSpec
from reconciler.apply.lease import Lease, break_lease
from reconciler.emulator import DEFAULT_DOMAIN_ID
from reconciler.errors import LockHeldError
from tests.emulator.client import Api

from .conftest import MAIN, PENGCHENG, TIANFU, Env, assert_money_invariant

ISSUE_PATH = "/v2/partners/coupon-quotas/indirect-partner-adjust"


def _foreign_lease(env: Env, *, expires_in: float) -> None:
    journal = Journal.open(env.journal_file)
    now = time.time()
    with journal.transaction() as db:
        db.execute(
            "INSERT INTO leases (partner_id, token, owner, host, pid, run_id, acquired_at,"
            " renewed_at, expires_at) VALUES (?, 7, 'deploy@ci-runner-7 pid 4242',"
            " 'ci-runner-7', 4242, 'run-0123456789ab', ?, ?, ?)",
            (DEFAULT_DOMAIN_ID, now - 60, now - 5, now + expires_in),
        )
    journal.close()


def test_a_held_lock_names_its_holder_and_no_call_is_made(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    _foreign_lease(env, expires_in=600)
    seq = env.last_seq()
    held = env.cli("apply", manifests, "--auto-approve")
    assert held.exit_code == 1
    assert "is locked by another apply: deploy@ci-runner-7 pid 4242 (run run-0123456789ab)" in (
        held.output
    )
    assert "reconciler unlock --force" in held.output
    assert env.last_seq() == seq  # not a single API call

    refused = env.cli("unlock")
    assert refused.exit_code == 1
    assert "has not expired" in refused.output and "--force" in refused.output
    broken = env.cli("unlock", "--force")
    assert broken.exit_code == 0, broken.output
    assert "Released the lease" in broken.output and "deploy@ci-runner-7" in broken.output
    assert env.cli("unlock").output == "No lease is held.\n"

    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


def test_an_expired_lease_is_taken_over(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    _foreign_lease(env, expires_in=-1)
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Took over the lease of deploy@ci-runner-7 pid 4242" in result.output
    assert "its lease had expired" in result.output
    [(token,)] = env.journal_rows("SELECT token FROM leases")
    assert token == 8  # the fencing token only grows
    assert_money_invariant(env)


def test_a_run_that_lost_its_lease_sends_nothing_more(env: Env) -> None:
    journal = Journal.open(env.journal_file)
    lease = Lease.acquire(journal, DEFAULT_DOMAIN_ID, "run-a", ttl=60)
    spec = OpSpec(
        "update_coupon_quotas", MAIN, {"quota_amount": "1.00"}, {}, [ItemSpec(TIANFU, "k")]
    )
    op_id = journal.record_intent("run-a", DEFAULT_DOMAIN_ID, lease.token, spec)
    break_lease(journal, DEFAULT_DOMAIN_ID, force=True)  # an operator broke it meanwhile
    with pytest.raises(LockHeldError, match="no longer holds the lease"):
        journal.mark_attempt(op_id, DEFAULT_DOMAIN_ID, lease.token, 1)
    op = journal.operation(op_id)
    assert op is not None and op.state == "intent"  # settled as "never sent" by the next run
    lease.release()
    journal.close()


def test_an_unsettleable_operation_freezes_its_pair_until_an_operator_settles_it(
    env: Env,
) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    for folder in (manifests, env.manifests({MAIN: {PENGCHENG: "1000.00"}}, name="both")):
        # Nobody has told apply which operator the API records its calls under.
        settings = folder / "settings.yaml"
        settings.write_text(settings.read_text().replace("  operator: demo-distributor\n", ""))
    both = env.root / "both"
    tianfu = (manifests / "quotas.yaml").read_text().replace("quota-0", "tianfu")
    (both / "tianfu.yaml").write_text(tianfu)
    env.emu.add_fault("update_coupon_quotas", "drop_before_commit")
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5
    # Someone issues the same amount to the same reseller by hand with the same credentials.
    reply = Api(env.emu).post(
        ISSUE_PATH,
        {"quota_id": MAIN, "indirect_partner_ids": [TIANFU], "quota_amount": "15000.00"},
    )
    assert reply.status == 200

    seq = env.last_seq()
    stuck = env.cli("apply", both, "--auto-approve", "--wait")
    assert stuck.exit_code == 5
    match = re.search(r"reconciler journal settle (op-[0-9a-f]+) --committed", stuck.output)
    assert match, stuck.output
    op_id = match.group(1)
    assert f"reconciler journal settle {op_id} --not-committed" in stuck.output
    assert "may or may not have taken effect" in stuck.output
    assert "1 issue record(s) of 15000.00 by demo-distributor" in stuck.output
    assert "set Settings spec.operator" in stuck.output
    assert "operation_type=10" in stuck.output
    # Only tianfu's pair is frozen: pengcheng's change is applied in the same run.
    assert "1 applied, 0 failed, 0 manual, 0 unknown" in stuck.output
    [write] = env.writes(since=seq)
    assert json.loads(write["body"])["indirect_partner_ids"] == [PENGCHENG]

    assert f"{op_id}" in env.cli("journal", "list", "--open").output
    # The person checked the records: the 15,000.00 is their own issue. The call was sent less
    # than the in-flight horizon ago, so they say so.
    horizon = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
    refused = env.cli("journal", "settle", op_id, "--not-committed", extra_env=horizon)
    assert refused.exit_code == 1 and "--checked-api-records" in refused.output
    settled = env.cli(
        "journal", "settle", op_id, "--not-committed", "--checked-api-records", extra_env=horizon
    )
    assert settled.exit_code == 0, settled.output
    assert "1 item(s) settled as not committed" in settled.output

    seq = env.last_seq()
    done = env.cli("apply", both, "--auto-approve")
    assert done.exit_code == 0, done.output
    assert env.writes(since=seq) == []
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env, external={(TIANFU, MAIN): Decimal("15000.00")})
