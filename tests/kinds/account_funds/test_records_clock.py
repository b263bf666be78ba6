"""The cash ledger's clock is not the ``Date`` header's (docs/apply.md, "The records clock").

Apply places its run on the API's clock by the answers' ``Date`` and reads the recipient's
ledger since then for other writers. A gateway whose ``Date`` runs ahead of the clock that
stamps the ledger would hide another writer's first seconds: the window starts the records-clock
allowance earlier. A ``Date`` further off than the allowance shows in this journal's own
transfer records (the ledger id each answer returned), and no cash is moved after that.
"""

from __future__ import annotations

import pytest

from tests.apply.dateproxy import date_shifting_proxy
from tests.apply.scenarios import laptop

from .funds_env import (
    FUND_RESELLER,
    RUIXIN,
    TIANFU,
    Env,
    Want,
    assert_cash_invariant,
    cash,
    manifests,
    second_writer_stopped,
)


@pytest.mark.slow
def test_a_gateway_date_ahead_of_the_ledger_clock_never_hides_another_writer(
    served_env: Env,
) -> None:
    env = served_env
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")])
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], 8.0) as gateway:
        second_writer_stopped(env, folder, laptop(env, RECONCILER_ENDPOINT=gateway))
    assert cash(env.state())[RUIXIN] == cash(env.initial)[RUIXIN] + 4200


@pytest.mark.slow
def test_a_ledger_clock_further_off_than_the_allowance_is_measured_and_stops_transfers(
    served_env: Env,
) -> None:
    """``Date`` 60 s behind the ledger's clock: tianfu's top-up record (phase 3) lies outside
    its call's window even widened by the allowance; apply says so and moves no more cash in the
    run (ruixin, phase 4, is frozen)."""
    env = served_env
    folder = manifests(env, [Want(RUIXIN, floor="5000.00")], [Want(TIANFU, floor="60000.00")])
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], -60.0) as gateway:
        run = env.process("apply", folder, "--auto-approve",
                          extra_env={"RECONCILER_ENDPOINT": gateway})  # fmt: skip
    assert run.returncode == 5, run.stderr
    assert "s outside that call's window on the API's Date clock" in run.stderr
    assert "Raise --records-clock-skew (RECONCILER_RECORDS_CLOCK_SKEW) to at least" in run.stderr
    assert "1 applied, 0 failed, 0 manual, 0 unknown, 1 frozen" in run.stdout
    assert "frozen: ledger record " in run.stdout
    assert [c["operation"] for c in env.calls() if c["mutated"]] == [FUND_RESELLER]
    assert cash(env.state())[RUIXIN] == cash(env.initial)[RUIXIN]
    assert_cash_invariant(env)
