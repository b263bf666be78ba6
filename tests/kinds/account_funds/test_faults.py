"""Lost answers and transfers that never ran, on each of the four transfers, settled from the
cash ledger; another writer's records; a person settling what the ledger cannot decide.

The ledger names no operator: a record of a lost transfer has an unknown owner and never proves
it committed (its recipient stays frozen until a person settles it); no record proves it did
not, once nothing can still land."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconciler.apply.journal import Journal

from .funds_env import (
    FUND_CUSTOMER,
    FUND_RESELLER,
    HAINA,
    QINLING,
    RECLAIM_CUSTOMER,
    RECLAIM_RESELLER,
    RUIXIN,
    SHU,
    TIANFU,
    Env,
    Want,
    assert_cash_invariant,
    cash,
    manifests,
    outside_transfer,
    writes,
)

D = Decimal
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
#: one change per transfer operation, and the cash it ends with
CASES = {
    FUND_CUSTOMER: ([Want(RUIXIN, floor="5000.00")], [], RUIXIN, "5000.00"),
    RECLAIM_CUSTOMER: ([Want(HAINA, cap="15000.00")], [], HAINA, "15000.00"),
    FUND_RESELLER: ([], [Want(TIANFU, floor="60000.00")], TIANFU, "60000.00"),
    RECLAIM_RESELLER: ([], [Want(QINLING, cap="20000.00")], QINLING, "20000.00"),
}
RESELLER_CUSTOMER: tuple[list[Want], list[Want], str, str] = (
    [Want(SHU, floor="5000.00", reseller=TIANFU)],
    [],
    SHU,
    "5000.00",
)


def _items(env: Env) -> list[tuple[str, str | None]]:
    jrnl = Journal.open(env.journal_file)
    try:
        return [(i.state, i.record_id) for op in jrnl.operations() for i in op.items]
    finally:
        jrnl.close()


def _case(name: str) -> tuple[list[Want], list[Want], str, str]:
    return RESELLER_CUSTOMER if name == "reseller-customer" else CASES[name]


def _operation(name: str) -> str:
    return FUND_CUSTOMER if name == "reseller-customer" else name


NAMES = [*CASES, "reseller-customer"]


UNKNOWN_OWNER = "without an operator (the cash ledger names none)"


def _settle_by_hand(env: Env) -> None:
    """The person checked the ledger and the balance: the open transfer took effect."""
    [(op_id,)] = env.journal_rows("SELECT DISTINCT op_id FROM items WHERE state = 'unknown'")
    settled = env.cli("journal", "settle", op_id, "--committed", "--checked-api-records")
    assert settled.exit_code == 0, settled.output


@pytest.mark.parametrize("name", NAMES)
def test_commit_then_drop_is_never_sent_again_and_left_to_a_person(env: Env, name: str) -> None:
    customers, resellers, who, target = _case(name)
    folder = manifests(env, customers, resellers)
    env.emu.add_fault(_operation(name), "commit_then_drop")
    first = env.cli("apply", folder, "--auto-approve")
    assert first.exit_code == 5, first.output
    assert "1 unknown" in first.output and "a person settles it" in first.output
    [(detail,)] = env.journal_rows("SELECT detail FROM items")
    assert UNKNOWN_OWNER in detail and "(unknown owner)" in detail  # what the ledger showed
    seq = env.last_seq()
    frozen = env.cli("apply", folder, "--auto-approve")  # the ledger record cannot be proven ours
    assert frozen.exit_code == 5, frozen.output
    assert "may or may not have taken effect" in frozen.output  # live matches: no change
    assert UNKNOWN_OWNER in frozen.output
    assert "reconciler journal settle" in frozen.output
    assert writes(env, since=seq) == []
    _settle_by_hand(env)
    again = env.cli("apply", folder, "--auto-approve")
    assert again.exit_code == 0, again.output
    assert writes(env, since=seq) == []
    assert _items(env) == [("settled-committed", None)]
    assert cash(env.state())[who] == D(target)
    assert_cash_invariant(env)


@pytest.mark.parametrize("fault", ["drop_before_commit", "http_500"])
@pytest.mark.parametrize("name", NAMES)
def test_a_transfer_that_never_ran_is_waited_out_then_made_once(
    env: Env, name: str, fault: str
) -> None:
    customers, resellers, who, target = _case(name)
    folder = manifests(env, customers, resellers)
    env.emu.add_fault(_operation(name), fault)
    first = env.cli("apply", folder, "--auto-approve")
    assert first.exit_code == 5, first.output
    assert "1 unknown" in first.output
    seq = env.last_seq()
    frozen = env.cli("apply", folder, "--auto-approve", extra_env=LONG)
    assert frozen.exit_code == 5, frozen.output
    assert "may still be in flight" in frozen.output and "1 frozen" in frozen.output
    assert writes(env, since=seq) == []
    done = env.cli("apply", folder, "--auto-approve", "--wait")
    assert done.exit_code == 0, done.output
    assert "Settled 1 open operation(s)" in done.output
    assert [s for s, _ in _items(env)] == ["settled-not-committed", "committed"]
    assert cash(env.state())[who] == D(target)
    assert len(writes(env)) == 2
    assert_cash_invariant(env)


def test_an_identical_transfer_by_someone_else_leaves_ours_to_a_person(env: Env) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")])
    # Our transfer is sent and lost with the process (killed right after the call returned).
    crashed = env.process("apply", folder, "--auto-approve",
                          extra_env={"RECONCILER_CRASH_AT": "after-send"})  # fmt: skip
    assert crashed.returncode == 137, crashed.stderr
    outside_transfer(env, RUIXIN, "4200.00")  # the same amount, to the same customer
    frozen = env.cli("apply", folder, "--auto-approve")
    assert frozen.exit_code == 5, frozen.output
    assert "transfer records " in frozen.output and UNKNOWN_OWNER in frozen.output
    assert "reconciler journal settle" in frozen.output
    [(op_id,)] = env.journal_rows("SELECT op_id FROM operations")
    # the person found both records in the ledger and takes ours for committed
    settled = env.cli("journal", "settle", op_id, "--committed", "--checked-api-records")
    assert settled.exit_code == 0, settled.output
    after = env.cli("apply", folder, "--auto-approve")
    assert after.exit_code == 0, after.output
    assert cash(env.state())[RUIXIN] == D("9200.00")  # both landed; the floor needs nothing


def test_an_unknown_transfer_beside_someone_elses_freezes_only_its_recipient(env: Env) -> None:
    folder = manifests(env, [Want(RUIXIN, floor="5000.00"), Want(HAINA, cap="15000.00")])
    env.emu.add_fault(RECLAIM_CUSTOMER, "http_500")  # haina's reclaim is unknown
    first = env.cli("apply", folder, "--auto-approve")
    assert first.exit_code == 5, first.output
    outside_transfer(env, HAINA, "1.00")  # someone else is at work on haina
    env.emu.spend_cash(RUIXIN, "1000.00")  # ruixin needs 1000.00 again
    again = env.cli("apply", folder, "--auto-approve", extra_env=LONG)
    assert again.exit_code == 5, again.output
    assert "1 applied, 0 failed, 0 manual, 0 unknown, 1 frozen" in again.output
    assert cash(env.state())[RUIXIN] == D("5000.00")
    assert cash(env.state())[HAINA] == D("20001.00")
