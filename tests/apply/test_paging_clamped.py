"""An API that clamps the page size instead of refusing a larger limit never truncates a listing
silently: apply stops instead of deciding on part of one (REFERENCE §7.3 leaves the maximum page
size unknown; the emulator's ``page_limit`` fault plays such a gateway).

Before, paging stopped at the first short page even when the listing's own total said more: a
reseller's third quota went unseen (and was issued again), and another journal's record went
unseen by the records check (and the money was issued twice).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import MAIN, QINLING, TIANFU, Env, assert_money_invariant
from .scenarios import laptop, while_held

ISSUED = "list_issued_coupon_quotas"
RECORDS = "list_coupon_quotas_records"


@pytest.mark.slow
def test_a_clamped_quota_listing_stops_the_plan(served_env: Env) -> None:
    env = served_env
    first = env.process("apply", env.manifests({MAIN: {TIANFU: "45000.00"}}), "--auto-approve")
    assert first.returncode == 0, first.stderr  # tianfu now has three quotas from MAIN
    env.emu.add_fault(ISSUED, "page_limit", count=1000, value=2)
    seq = env.last_seq()
    more = env.manifests({MAIN: {TIANFU: "60000.00"}}, name="more")
    result = env.process("apply", more, "--auto-approve")
    assert result.returncode == 1, result.stdout
    assert (
        "GET /v2/partners/issued-coupon-quotas (list_issued_coupon_quotas) returned 2 of the 3 "
        "items its own total announces: the API served at most 2 items per page although "
        "limit=100 was asked (it clamped the page size)"
    ) in result.stderr
    assert "Internal error" not in result.stderr
    assert env.writes(since=seq) == []
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert_money_invariant(env)


@pytest.mark.slow
def test_a_clamped_records_listing_never_hides_another_writer(served_env: Env) -> None:
    """Two journals, as in test_exactly_once, with the records check's listing clamped to one
    record a page: the laptop's check for tianfu would see only qinling's record."""
    env = served_env
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", QINLING: "20000.00"}})

    def runner_then_clamp() -> None:
        first = env.process("apply", manifests, "--auto-approve")
        assert first.returncode == 0, first.stderr  # qinling's 1,500.00, then tianfu's 15,000.00
        env.emu.add_fault(RECORDS, "page_limit", count=1000, value=1)

    second, _ = while_held(env, RECORDS, manifests, runner_then_clamp, extra_env=laptop(env))
    out = second.stdout
    assert second.returncode == 5, (out, second.stderr)
    # tianfu's check (after qinling's pair was stopped) got one record of two: the group stops,
    # nothing more is written.
    assert "(list_coupon_quotas_records) returned 1 of the 2 items" in out
    assert "(it clamped the page size)" in out
    assert out.count("stopped before any write") == 2
    assert len(env.issue_records(TIANFU)) == 1 and len(env.issue_records(QINLING)) == 1
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert env.balance(QINLING, MAIN) == Decimal("20000.00")
    assert_money_invariant(env)
