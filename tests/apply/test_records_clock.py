"""The records check does not trust the ``Date`` header to the second.

Apply measures the API's clock from the ``Date`` header of its answers and looks for other
writers' records since its run began on that clock. A gateway (or a proxy) whose ``Date`` runs a
few seconds ahead of the clock that stamps the records hid the first seconds of the run from the
check: with ``Date`` 8 s ahead, a laptop issued the 15,000.00 a CI runner had just issued. The
window now starts the records-clock allowance earlier (``--records-clock-skew``, docs/apply.md).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import MAIN, TIANFU, Env, assert_money_invariant, wait_for
from .dateproxy import date_shifting_proxy

RECORDS = "list_coupon_quotas_records"


def _two_journals(env: Env, shift: float, extra: dict[str, str]) -> tuple[int, str, str]:
    """The laptop (its own journal, through a gateway whose Date is ``shift`` s ahead) checks
    the records right before its issue; that read is held while the CI runner issues."""
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    with date_shifting_proxy(env.extra["RECONCILER_ENDPOINT"], shift) as gateway:
        laptop = {
            "RECONCILER_JOURNAL": str(env.root / "laptop.sqlite"),
            "RECONCILER_ENDPOINT": gateway,
            **extra,
        }
        held = env.emu.add_fault(RECORDS, "hold", seconds=120)
        second = env.popen("apply", manifests, "--auto-approve", extra_env=laptop)
        try:
            wait_for(lambda: any(c["held"] for c in env.calls(RECORDS)))
            first = env.process("apply", manifests, "--auto-approve")
            assert first.returncode == 0, first.stderr
            env.emu.release(held)
            out, err = second.communicate(timeout=60)
        finally:
            if second.poll() is None:
                second.kill()
    return second.returncode, out, err


@pytest.mark.slow
def test_a_gateway_date_ahead_of_the_records_clock_never_hides_another_writer(
    served_env: Env,
) -> None:
    env = served_env
    code, out, err = _two_journals(env, 8.0, {})
    assert code == 5, (out, err)
    assert "another writer is active on this pair" in out
    assert len(env.issue_records(TIANFU)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


@pytest.mark.slow
def test_the_allowance_is_configurable_and_its_limit_is_what_the_docs_say(
    served_env: Env,
) -> None:
    """With the allowance set below the gateway's real skew the check is blind again, exactly
    as docs/apply.md's limits say (this is the limit, shown, not a behaviour to keep)."""
    env = served_env
    code, out, err = _two_journals(env, 8.0, {"RECONCILER_RECORDS_CLOCK_SKEW": "0"})
    assert "another writer is active" not in out, (code, out, err)
    assert len(env.issue_records(TIANFU)) == 2  # issued twice: the laptop saw no other writer
    assert "balance is 60,000.00 CNY, target 45,000.00 CNY" in out
