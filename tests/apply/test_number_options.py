"""Every number of seconds or requests per second a person can give refuses nan, inf and what
makes no sense, with a usage error (exit 1) and no API call.

An outside review set ``RECONCILER_IN_FLIGHT_HORIZON=nan``: click's ``FloatRange(min=0)`` let
it through, ``now < last + nan`` is always false, so an issue still held in flight was settled
as not committed at once and made again.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from decimal import Decimal

import pytest

from .conftest import MAIN, TIANFU, Env, assert_money_invariant, wait_for
from .scenarios import killed_in_flight

ISSUE = "update_coupon_quotas"

CASES = [
    # (arguments after the manifests, environment, what the message says)
    ((), {"RECONCILER_IN_FLIGHT_HORIZON": "nan"}, "'nan' is not a finite number of seconds"),
    ((), {"RECONCILER_IN_FLIGHT_HORIZON": "inf"}, "(from RECONCILER_IN_FLIGHT_HORIZON)"),
    ((), {"RECONCILER_IN_FLIGHT_HORIZON": "-1"}, "'-1' is below the minimum of 0 seconds"),
    (("--in-flight-horizon", "NaN"), {}, "'NaN' is not a finite number of seconds"),
    (("--lock-ttl", "nan"), {}, "Invalid value for '--lock-ttl': 'nan' is not a finite"),
    (("--lock-ttl", "inf"), {}, "'inf' is not a finite number of seconds"),
    (("--lock-ttl", "9"), {}, "'9' is below the minimum of 10 seconds"),
    (("--lock-ttl", "soon"), {}, "'soon' is not a finite number of seconds"),
    ((), {"RECONCILER_RATE": "nan"}, "RECONCILER_RATE='nan' is not a positive, finite number"),
    ((), {"RECONCILER_RATE": "inf"}, "RECONCILER_RATE='inf' is not a positive, finite number"),
    ((), {"RECONCILER_RATE": "-5"}, "RECONCILER_RATE='-5' is not a positive, finite number"),
]


@pytest.mark.parametrize(("args", "environ", "says"), CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_apply_refuses_a_number_that_is_not_one(
    env: Env, args: tuple[str, ...], environ: dict[str, str], says: str
) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    seq = env.last_seq()
    result = env.cli("apply", manifests, "--auto-approve", *args, extra_env=environ)
    assert result.exit_code == 1, result.output
    assert says in result.output
    assert "Internal error" not in result.output
    assert env.last_seq() == seq  # not a single API call


@pytest.mark.parametrize("horizon", ["nan", "inf", "-0.5"])
def test_journal_settle_refuses_a_horizon_that_is_not_one(env: Env, horizon: str) -> None:
    result = env.cli(
        "journal", "settle", "op-000000000000", "--committed",
        extra_env={"RECONCILER_IN_FLIGHT_HORIZON": horizon},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Invalid value for '--in-flight-horizon'" in result.output


@pytest.mark.parametrize("rate", ["nan", "inf", "-1"])
def test_the_emulator_refuses_a_rate_limit_that_is_not_one(rate: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", "from reconciler.cli import main; main()", "emulator", "serve",
         "--port", str(port), "--rate-limit", rate],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "Invalid value for '--rate-limit'" in done.stderr
    assert "is not a finite number >= 0 (0 = unlimited)" in done.stderr


@pytest.mark.slow
def test_a_nan_horizon_never_settles_a_call_in_flight(served_env: Env) -> None:
    """The review's attack: an issue held in flight, apply killed, a rerun with a nan horizon."""
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    held = killed_in_flight(
        env, ISSUE, manifests, extra_env={"RECONCILER_IN_FLIGHT_HORIZON": "600"}
    )
    seq = env.last_seq()
    rerun = env.process(
        "apply", manifests, "--auto-approve", extra_env={"RECONCILER_IN_FLIGHT_HORIZON": "nan"}
    )
    assert rerun.returncode == 1, rerun.stderr
    assert "'nan' is not a finite number of seconds" in rerun.stderr
    assert env.writes(since=seq) == [] and env.last_seq() == seq
    env.emu.release(held)
    wait_for(lambda: env.balance(TIANFU, MAIN) == Decimal("45000.00"))
    assert len(env.issue_records(TIANFU)) == 1
    again = env.process(
        "apply", manifests, "--auto-approve", extra_env={"RECONCILER_IN_FLIGHT_HORIZON": "600"}
    )
    assert again.returncode == 0, again.stderr
    assert len(env.issue_records(TIANFU)) == 1
    assert_money_invariant(env)
