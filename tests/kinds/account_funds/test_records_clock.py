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


@pytest.mark.parametrize(("second", "finding"), [(0, False), (-1, True)])
def test_a_ledger_record_in_the_windows_first_second_is_no_clock_finding(
    second: int, finding: bool
) -> None:
    """``measure_clock`` reads its window as the records check does: the window may start
    mid-second while the ledger stamps whole seconds; a record in that first second is ours,
    in time, and the cash keeps moving. One a second earlier is a finding, worded as every
    kind's (``apply.writers.clock_off``), whole seconds rounded up."""
    import math
    from datetime import datetime, timezone
    from decimal import Decimal
    from types import SimpleNamespace
    from typing import Any, cast

    from reconciler.apply.evidence import Evidence
    from reconciler.bss.cash import AdjustRecord
    from reconciler.kinds.account_funds.records import measure_clock

    ev = Evidence(offset=None, skew=30.0)
    op = cast(
        "Any",
        SimpleNamespace(
            op_id="op-0123456789ab", sent_at=1000.4, intent_at=1000.4, state="committed",
            finished_at=1001.2, last_attempt=1000.4,
        ),
    )  # fmt: skip
    begin = ev.window(op)[0]
    assert begin != math.floor(begin)  # the window starts mid-second
    stamped = datetime.fromtimestamp(math.floor(begin) + second, timezone.utc)
    record = AdjustRecord(
        trans_id="T-1", customer_id="c-1", customer_name=None,
        operation_type="SOURCE_OPERATION_BEADJUST", amount=Decimal("5.00"), currency="CNY",
        operation_time=stamped, measure_id=None, apply_scene=None, memo=None,
    )  # fmt: skip
    notices: list[str] = []
    ctx = SimpleNamespace(records_clock_off=None, notice=notices.append, evidence=lambda: ev)
    measure_clock(cast("Any", ctx), op, record)
    assert bool(notices) is finding
    if finding:
        assert notices[0].startswith("ledger record T-1 on the transfer for c-1, which ")
        # 1.4 s before the window's start (70.4), rounded up; the allowance 30 + 2
        assert "is stamped" in notices[0] and " 2 s outside that call's window" in notices[0]
        assert "to at least 32, then run apply again" in notices[0]
