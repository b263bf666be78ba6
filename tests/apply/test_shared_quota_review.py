"""An adversarial review of kinds sharing a coupon quota (tests/apply/test_shared_quota.py has
the feature's own tests): what a failed or unknown premise, a changed balance and hostile names
do to the combined draw, end to end through the CLI against the emulator."""

from __future__ import annotations

from decimal import Decimal

from .conftest import MAIN, QINLING, TIANFU, Env
from .coupons import LINGYUN, quota_balance
from .test_shared_quota import _coupon, _manifests, _quota, _writes

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
