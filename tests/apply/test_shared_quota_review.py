"""An adversarial review of kinds sharing a coupon quota (tests/apply/test_shared_quota.py has
the feature's own tests): what a failed or unknown premise, a changed balance and hostile names
do to the combined draw, end to end through the CLI against the emulator."""

from __future__ import annotations

from decimal import Decimal

from .conftest import MAIN, QINLING, TIANFU, Env
from .coupons import LINGYUN, LONG, quota_balance
from .test_shared_quota import _assert_money, _coupon, _manifests, _quota, _writes

QINLING_QUOTA = "2025081506220412"  # 18,500.00 left of 25,000.00 from MAIN


def test_a_failed_reclaim_stops_the_draws_that_relied_on_it(env: Env) -> None:
    """440,000.00 to tianfu-cloud and a 10,000.00 coupon fit MAIN's 445,000.00 only with
    qinling-digital's 18,500.00 back first. The reclaim fails: nothing more may be drawn on MAIN
    in this run (the plan's check no longer holds), the run says why and exits non-zero."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00", QINLING: "0.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    env.emu.add_fault(
        "reclaim_coupon_quotas", "item_error", ids=[QINLING_QUOTA], error_code="CBC.99000012",
        count=10,
    )  # fmt: skip
    seq = env.last_seq()
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code != 0, applied.output
    operations = [c["operation"] for c in _writes(env, since=seq)]
    assert set(operations) == {"reclaim_coupon_quotas"}, (operations, applied.output)
    assert quota_balance(env, MAIN) == Decimal("445000.00")
    text = " ".join(applied.output.split())
    assert "0 applied" in text and "2 skipped" in text, text
    assert f"not run: it takes from coupon quota {MAIN}, which reseller-quota/{MAIN}/" in text
    assert "was to give back 18,500.00 to first and did not (failed)" in text, text


def test_a_reclaim_unknown_then_frozen_holds_back_the_draws_until_it_is_settled(
    env: Env,
) -> None:
    """The reclaim is sent and its answer lost: in this run its outcome is unknown, in the next
    (within the in-flight horizon) its pair is frozen. Neither run draws on MAIN for the issue
    and the coupon that counted on the 18,500.00; once it is settled, everything applies."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00", QINLING: "0.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    env.emu.add_fault("reclaim_coupon_quotas", "drop_before_commit")
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5, first.output
    assert "0 applied, 0 failed, 0 manual, 1 unknown, 2 skipped" in first.output, first.output
    assert "did not (unknown)" in " ".join(first.output.split())
    assert {c["operation"] for c in _writes(env)} == {"reclaim_coupon_quotas"}
    seq = env.last_seq()
    frozen = env.cli("apply", manifests, "--auto-approve", extra_env=LONG)
    assert frozen.exit_code != 0, frozen.output
    assert "may still be in flight" in frozen.output, frozen.output
    assert "2 skipped, 1 frozen" in frozen.output, frozen.output
    assert "did not (frozen)" in " ".join(frozen.output.split())
    assert _writes(env, since=seq) == []
    settled = env.cli("apply", manifests, "--auto-approve", "--wait")
    assert settled.exit_code == 0, settled.output
    assert quota_balance(env, MAIN) == Decimal("445000.00") + Decimal("18500.00") - Decimal(
        "450000.00"
    )
    _assert_money(env)
