"""An adversarial review of kinds sharing a coupon quota (tests/apply/test_shared_quota.py has
the feature's own tests): what a failed or unknown premise, a changed balance and hostile names
do to the combined draw, end to end through the CLI against the emulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.emulator import quotas

from .conftest import MAIN, PENGCHENG, QINLING, TIANFU, Env
from .coupons import (
    HEAD,
    LINGYUN,
    LONG,
    QUOTA,
    SHU,
    TIANFU_QUOTA,
    XINGHE_EC2_ONLY,
    quota_balance,
)
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


def test_a_saved_plan_whose_quota_was_drawn_on_since_is_not_applied(env: Env) -> None:
    """The plan was checked against 445,000.00 (431,500.00 drawn net); another operator then
    issues 20,000.00 from MAIN in Partner Center (425,000.00 left). Applying the saved plan
    re-reads and re-checks: nothing is written."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00", QINLING: "0.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    out = env.root / "plan.json"
    made = env.cli("plan", manifests, "--out", out)
    assert made.exit_code == 0, made.output
    emu = env.emu

    def act(state: Any) -> None:
        writer = quotas.Writer("ops.li", emu.clock.time(), 0.0, 0, {})
        quotas.issue(state, MAIN, [PENGCHENG], Decimal("20000.00"), writer)

    emu._mutate(act)
    seq = env.last_seq()
    applied = env.cli("apply", "--plan", out)
    assert applied.exit_code in (1, 4), applied.output
    assert _writes(env, since=seq) == []
    text = " ".join(applied.output.split())
    assert f"coupon quota {MAIN} is drawn on by 2 kinds" in text, text
    assert "431,500.00 together" in text and "holds 425,000.00" in text, text


def _lingyun(face_value: str) -> str:
    return f"""\
    - customerId: "{LINGYUN}"
      coupons:
        - {{faceValue: "{face_value}", expireTime: "2027-12-31T15:59:59Z"}}
"""


def _xinghe_back_and_lingyun(env: Env, issue: str, face_value: str) -> Path:
    """90,000.00 to tianfu-cloud from the partner's coupon quota (90,050.00 held), and in the
    same run xinghe-net's 5,000.00 coupon (1,800.00 spent) reclaimed and a coupon for
    lingyun-games, both on that quota."""
    coupons = HEAD.replace("metadata: {name: coupons}", "metadata: {name: coupons-quota}")
    return _manifests(
        env, _quota(QUOTA, {TIANFU: issue}), coupons + XINGHE_EC2_ONLY + _lingyun(face_value)
    )


def test_a_coupon_reclaim_frees_balance_for_the_other_kinds_issue(env: Env) -> None:
    """3,200.00 (the coupon's balance) come back before 90,000.00 and 3,000.00 go out: 89,800.00
    net fit the 90,050.00, only with the reclaim first."""
    manifests = _xinghe_back_and_lingyun(env, "90000.00", "3000.00")
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert [c["operation"] for c in _writes(env)] == [
        "reclaim_partner_coupons",
        "update_coupon_quotas",
        "create_partner_coupons",
    ]
    assert quota_balance(env, QUOTA) == Decimal("50.00") + Decimal("200.00")
    _assert_money(env)


def test_a_partly_spent_coupon_gives_back_its_balance_not_its_face_value(env: Env) -> None:
    """With a 3,300.00 coupon the run needs 90,100.00 net: the 3,200.00 balance does not cover
    it (its 5,000.00 face value would)."""
    manifests = _xinghe_back_and_lingyun(env, "90000.00", "3300.00")
    plan = env.cli("plan", manifests, "--detailed-exitcode")
    assert plan.exit_code == 1, plan.output
    text = " ".join(plan.output.split())
    assert "Customer coupons: takes 3,300.00, gives back 3,200.00" in text, text
    assert "90,100.00 together" in text and "lower them by 50.00" in text, text


def _shu_then(env: Env, *, exclusive: bool) -> Path:
    """shu-brocade (tianfu-cloud's customer) holds a 300.00 coupon from tianfu-cloud's quota;
    the manifests then raise tianfu-cloud's balance from MAIN to 35,000.00 and give shu-brocade
    a 200.00 coupon from that same quota (replacing the 300.00 one when ``exclusive``)."""
    first = _manifests(env, _coupon(SHU, "300.00", TIANFU_QUOTA, reseller=TIANFU))
    made = env.cli("apply", first, "--auto-approve")
    assert made.exit_code == 0, made.output
    coupon = _coupon(SHU, "200.00", TIANFU_QUOTA, reseller=TIANFU)
    if exclusive:
        coupon = coupon.replace("      coupons:", "      exclusive: true\n      coupons:")
    return _manifests(env, _quota(MAIN, {TIANFU: "35000.00"}), coupon)


def test_a_coupon_reclaimed_into_a_resellers_quota_first_does_not_stale_its_raise(
    env: Env,
) -> None:
    """The coupon change gives 100.00 net back to tianfu-cloud's quota and runs first; the raise
    depends on that quota's balance (its fingerprint): it must not be skipped as changed."""
    manifests = _shu_then(env, exclusive=True)
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 applied, 0 failed" in applied.output, applied.output


def test_a_target_that_leaves_one_kind_out_checks_and_applies_only_the_other(env: Env) -> None:
    """Together the two overdraw MAIN; ``--target`` keeps one of them: the check counts what
    the run does (the coupon alone fits) and apply writes only that."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    target = ("--target", f"customer-coupons/{LINGYUN}")
    plan = env.cli("plan", manifests, *target, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    both = env.cli("plan", manifests, "--detailed-exitcode")
    assert both.exit_code == 1, both.output
    applied = env.cli("apply", manifests, *target, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert [c["operation"] for c in _writes(env)] == ["create_partner_coupons"]
    assert quota_balance(env, MAIN) == Decimal("435000.00")
    rest = env.cli("plan", manifests, "--detailed-exitcode")  # 440,000.00 > 435,000.00 now
    assert rest.exit_code == 1, rest.output
    assert "lower them by 5000.00" in " ".join(rest.output.split()), rest.output


def test_drift_calls_a_shared_quotas_overdraw_what_it_is(env: Env) -> None:
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    drift = env.cli("drift", manifests)
    assert drift.exit_code == 2, drift.output
    text = " ".join(drift.output.split())
    assert f"coupon quota {MAIN} is drawn on by 2 kinds" in text, text
    assert "no longer resolve" not in text, text
    assert "in this run" not in text, text
    assert "Manifest problems apply would stop on (1)" in text, text
    assert "1 manifest problem apply would stop on" in text, text
