"""Apply end to end through the CLI: convergence, the report, manual steps, confirmation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from reconciler.cli import main

from .conftest import (
    EXAMPLES,
    MAIN,
    PENGCHENG,
    QINLING,
    QINLING_CHILD,
    SECOND,
    TIANFU,
    Env,
    assert_money_invariant,
)
from .coupons import assert_coupon_money

HUAXIA = "8b465a3f89f3c847bf335bcbb874b004"  # li.na, wants wang.fang
YUNTU = "9e52d0fb25418c4642ffe89f2e73dbaf"  # zhang.wei, wants nobody
RUIXIN = "d7f5b2700f8252c9add664552a99c790"  # nobody, wants li.na


def test_apply_converges_and_a_second_apply_makes_no_write_call(env: Env) -> None:
    report_file, steps_file = env.root / "report.json", env.root / "manual.md"
    first = env.cli(
        "apply", EXAMPLES, "--auto-approve", "--report", report_file, "--manual-steps", steps_file
    )
    assert first.exit_code == 0, first.output
    assert (
        "Apply: 16 applied, 0 failed, 3 manual, 0 unknown; "
        "issued 71,850.00 CNY, reclaimed 30,500.00 CNY." in first.output
    )
    report = json.loads(report_file.read_text())
    assert report["status"] == "applied"
    assert report["totals"]["money"] == {
        "currency": "CNY",
        "issued": "71850.00",
        "reclaimed": "30500.00",
    }
    by_key = {c["key"]: c for c in report["changes"]}
    qinling = by_key[f"reseller-quota/{MAIN}/{QINLING}"]
    assert [op["operation"] for op in qinling["operations"]] == [
        "reclaim_coupon_quotas",
        "update_coupon_quotas",
    ]
    assert all(op["request_id"] and op["op_id"].startswith("op-") for op in qinling["operations"])
    assert "Choose 'Assign Account Manager', select wang.fang" in steps_file.read_text()
    assert oct(report_file.stat().st_mode & 0o777) == "0o600"

    # The manual changes stay in the plan until a person has made them in the console.
    pending = env.cli("plan", EXAMPLES, "--detailed-exitcode")
    assert pending.exit_code == 2
    assert "Plan: 3 changes (3 manual)" in pending.output
    emu = env.emu
    for customer, manager in ((HUAXIA, "wang.fang"), (YUNTU, None), (RUIXIN, "li.na")):
        emu.set_account_manager(customer, manager)
    # What is left apply cannot reach (a customer without the agency, an expired resource):
    # never "No changes".
    clean = env.cli("plan", EXAMPLES, "--detailed-exitcode")
    assert clean.exit_code == 6, clean.output
    assert "Nothing to apply; 2 declared states cannot be reached." in clean.output

    seq = env.last_seq()
    again = env.cli("apply", EXAMPLES, "--auto-approve")
    assert again.exit_code == 6, again.output  # nothing done, and not everything holds: not 0
    assert "Nothing to apply; 2 declared states cannot be reached." in again.output
    assert env.writes(since=seq) == []
    assert env.balance(QINLING, MAIN) == Decimal("12000.00")
    assert env.balance(TIANFU, SECOND) == Decimal("8000.00")
    assert_money_invariant(env)
    assert_coupon_money(env)


def test_reclaims_come_before_the_issues_of_a_parent_quota(env: Env) -> None:
    manifests = env.manifests(
        {MAIN: {QINLING: "12000.00", TIANFU: "45000.00"}, SECOND: {PENGCHENG: "16000.00"}}
    )
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    main_writes = [c for c in env.writes() if MAIN in c["body"] or QINLING_CHILD in c["body"]]
    assert [c["operation"] for c in main_writes] == [
        "reclaim_coupon_quotas",
        "update_coupon_quotas",
        "update_coupon_quotas",
    ]
    reclaim = json.loads(main_writes[0]["body"])
    assert reclaim["quota_ids"] == [QINLING_CHILD]
    assert reclaim["remark"].startswith("partner-reconciler op-")
    assert env.balance(QINLING, MAIN) == Decimal("12000.00")
    assert env.balance(PENGCHENG, SECOND) == Decimal("16000.00")
    assert_money_invariant(env)


def test_resellers_with_the_same_amount_share_one_issue_call(env: Env) -> None:
    manifests = env.manifests(
        {MAIN: {TIANFU: "31000.00", QINLING: "19500.00", PENGCHENG: "1000.00"}}
    )
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    issues = [json.loads(c["body"]) for c in env.writes()]
    assert len(issues) == 1
    assert sorted(issues[0]["indirect_partner_ids"]) == sorted([TIANFU, QINLING, PENGCHENG])
    assert issues[0]["quota_amount"] == 1000.00
    assert_money_invariant(env)


def test_without_a_terminal_apply_refuses_to_prompt_and_writes_nothing(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "31000.00"}})
    result = env.cli("apply", manifests)
    assert result.exit_code == 1
    assert "stdin is not a terminal" in result.output
    assert "--auto-approve" in result.output
    assert env.writes() == []


@pytest.mark.parametrize(("answer", "code"), [("yes", 0), ("no", 1), ("y", 1)])
def test_at_a_terminal_apply_asks_and_only_yes_applies(
    env: Env, monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    monkeypatch.setattr("reconciler.cli.apply._interactive", lambda: True)
    manifests = env.manifests({MAIN: {TIANFU: "31000.00"}})
    result = env.runner.invoke(
        main, ["apply", str(manifests)], input=f"{answer}\n", env=env.env, catch_exceptions=False
    )
    assert result.exit_code == code, result.output
    assert "Apply these changes? Only 'yes' will be accepted" in result.output
    if code:
        assert "Apply cancelled; nothing was written." in result.output
        assert env.writes() == []
    else:
        assert env.balance(TIANFU, MAIN) == Decimal("31000.00")


def test_a_blocked_guard_stops_apply_before_any_write(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "80000.00"}}, per_reseller="10000.00")
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 3
    assert "max-issue-per-reseller" in result.output
    assert "--allow max-issue-per-reseller" in result.output
    assert env.writes() == []
    allowed = env.cli("apply", manifests, "--auto-approve", "--allow", "max-issue-per-reseller")
    assert allowed.exit_code == 0, allowed.output
    assert env.balance(TIANFU, MAIN) == Decimal("80000.00")
    assert_money_invariant(env)


def test_the_journal_lists_every_write_with_its_outcome(env: Env) -> None:
    manifests = env.manifests({MAIN: {QINLING: "12000.00"}})
    assert env.cli("apply", manifests, "--auto-approve").exit_code == 0
    listed = env.cli("journal", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert "committed reclaim_coupon_quotas 2025063010300118" in lines[0]
    assert f"{QINLING_CHILD}  committed  18500.00" in lines[1]
    assert "committed update_coupon_quotas 2025063010300118" in lines[2]
    assert f"{QINLING}  committed  12000.00" in lines[3]
    assert env.cli("journal", "list", "--open").output == "No open operations.\n"
    assert oct(env.journal_file.stat().st_mode & 0o777) == "0o600"
