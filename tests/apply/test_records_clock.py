"""The records check does not trust the ``Date`` header to the second.

Apply measures the API's clock from the ``Date`` header of its answers and looks for other
writers' records since its run began on that clock. A gateway (or a proxy) whose ``Date`` runs a
few seconds ahead of the clock that stamps the records hid the first seconds of the run from the
check: with ``Date`` 8 s ahead, a laptop issued the 15,000.00 a CI runner had just issued. The
window now starts the records-clock allowance earlier (``--records-clock-skew``, default 30 s,
docs/apply.md); a ``Date`` further off than that is the documented limit.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import MAIN, QINLING, TIANFU, Env, assert_money_invariant
from .coupons import XINGHE_EC2_ONLY, XINGHE_OLD, coupon_manifests
from .dateproxy import date_shifting_proxy
from .scenarios import laptop, second_writer

RECORDS = "list_coupon_quotas_records"


def _two_journals(env: Env, shift: float) -> tuple[int, str, str]:
    """The laptop (its own journal, through a gateway whose Date is ``shift`` s ahead) checks
    the records right before its issue; that read is held while the CI runner issues."""
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], shift) as gateway:
        through = laptop(env, RECONCILER_ENDPOINT=gateway)
        second, first = second_writer(env, RECORDS, manifests, laptop_env=through)
    assert first.returncode == 0, first.stderr
    return second.returncode, second.stdout, second.stderr


@pytest.mark.slow
def test_a_gateway_date_ahead_of_the_records_clock_never_hides_another_writer(
    served_env: Env,
) -> None:
    env = served_env
    code, out, err = _two_journals(env, 8.0)
    assert code == 5, (out, err)
    assert "another writer is active on this pair" in out
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


@pytest.mark.slow
def test_a_date_further_off_than_the_allowance_is_the_documented_limit(
    served_env: Env,
) -> None:
    """With ``Date`` 60 s ahead of the records clock, twice the default allowance, the first
    30 s of the laptop's run are hidden from its check again, exactly as docs/apply.md's limits
    say ("The records clock"): this shows the limit, it is not a behaviour to keep."""
    env = served_env
    code, out, err = _two_journals(env, 60.0)
    assert "another writer is active" not in out, (code, out, err)
    assert len(env.issue_records(TIANFU)) == 2  # issued twice: the laptop saw no other writer
    assert "balance is 60,000.00 CNY, target 45,000.00 CNY" in out


@pytest.mark.slow
def test_a_records_clock_further_off_than_the_allowance_is_measured_and_stops_writes(
    served_env: Env,
) -> None:
    """``Date`` 60 s behind the records clock: our own issue record lies outside its call's
    window even widened by the allowance. Apply measures that from the record, says so, and
    from then on the check for other writers is not trusted: the next write freezes its pairs."""
    env = served_env
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], -60.0) as gateway:
        through = {"RECONCILER_ENDPOINT": gateway, "RECONCILER_IN_FLIGHT_HORIZON": "600"}
        first = env.process(
            "apply", env.manifests({MAIN: {TIANFU: "45000.00"}}), "--auto-approve",
            extra_env=through,
        )  # fmt: skip
        assert "s outside that call's window on the API's Date clock" in first.stderr
        assert "Raise --records-clock-skew (RECONCILER_RECORDS_CLOCK_SKEW) to at least" in (
            first.stderr
        )
        seq = env.last_seq()
        more = env.manifests({MAIN: {TIANFU: "45000.00", QINLING: "20000.00"}}, name="more")
        second = env.process("apply", more, "--auto-approve", extra_env=through)
    assert second.returncode == 5, second.stderr
    assert "frozen: issue record " in second.stdout
    assert env.writes(since=seq) == []
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")


@pytest.mark.slow
def test_our_coupon_reclaim_record_outside_its_window_is_worded_as_a_reclaim(
    served_env: Env,
) -> None:
    """The same measure on a coupon reclaim: its record is the reclaim of the coupon our call
    reclaimed (the message says so in the kind's words, never that the call created it)."""
    env = served_env
    manifests = coupon_manifests(env, XINGHE_EC2_ONLY)
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], -60.0) as gateway:
        through = {"RECONCILER_ENDPOINT": gateway, "RECONCILER_IN_FLIGHT_HORIZON": "600"}
        run = env.process("apply", manifests, "--auto-approve", extra_env=through)
    text = " ".join(run.stderr.split())
    assert "coupon reclaim record " in text, run.stderr
    assert f"on {XINGHE_OLD}, which op-" in text and " reclaimed, is stamped " in text, text
    assert "created" not in text, text


@pytest.mark.parametrize(
    ("stamped", "finding"),
    [
        (100.0, False),  # the window's first second: records are stamped to the whole second
        (130.0, False),
        (99.0, True),
        (131.0, True),
    ],
)
def test_the_clock_finding_reads_the_window_as_the_records_check_does(
    stamped: float, finding: bool
) -> None:
    """Our record stamped within the window, as :func:`in_window` reads it, is no finding: the
    window may start mid-second (100.4 here) while records carry whole seconds."""
    from datetime import datetime, timezone
    from types import SimpleNamespace
    from typing import Any, cast

    from reconciler.apply.evidence import RecordFacts
    from reconciler.apply.writers import clock_off

    notices: list[str] = []
    ctx = SimpleNamespace(records_clock_off=None, notice=notices.append)
    record = RecordFacts(
        id="rec-1",
        recipient="r-1",
        amount=Decimal("10.00"),
        result="0",
        time=datetime.fromtimestamp(stamped, timezone.utc),
        operator=None,
        subject="quota q-1",
    )
    op = cast("Any", SimpleNamespace(op_id="op-000000000001"))
    clock_off(cast("Any", ctx), record, op, (100.4, 130.0), 30.0)
    assert bool(notices) is finding
    assert (ctx.records_clock_off is not None) is finding
