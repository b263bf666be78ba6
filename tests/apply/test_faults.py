"""Lost answers, dropped requests and per-item failures, injected through the emulator."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from .conftest import (
    DEMO_DOC,
    MAIN,
    PENGCHENG,
    QINLING,
    QINLING_CHILD,
    TIANFU,
    Env,
    assert_money_invariant,
)

ISSUE = "update_coupon_quotas"
RECLAIM = "reclaim_coupon_quotas"
LONG_HORIZON = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}


def _issue_mode(env: Env, mode: str) -> None:
    """``new_quota``: each issue makes a new child quota; ``top_up``: credits the existing one."""
    if mode != "new_quota":
        doc = copy.deepcopy(DEMO_DOC)
        doc.setdefault("partner", {})["issue_mode"] = mode
        env.emu.load_seed(doc)
        env.initial = env.state()


@pytest.mark.parametrize("mode", ["new_quota", "top_up"])
def test_commit_then_drop_on_an_issue_is_settled_and_never_issued_twice(
    env: Env, mode: str
) -> None:
    _issue_mode(env, mode)
    manifests = env.manifests({MAIN: {TIANFU: "45000.00"}})
    env.emu.add_fault(ISSUE, "commit_then_drop")
    first = env.cli("apply", manifests, "--auto-approve")
    # The answer was lost, but the API's records prove the issue took effect.
    assert first.exit_code == 0, first.output
    assert "Apply: 1 applied" in first.output
    seq = env.last_seq()
    rerun = env.cli("apply", manifests, "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert env.writes(since=seq) == []
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert len(env.issue_records(TIANFU)) == 1
    [(state, record)] = env.journal_rows("SELECT state, record_id FROM items")
    assert state == "settled-committed"
    # Our operator's record of the amount since the send, and the matching growth, prove it,
    # on a new quota or a topped-up one alike.
    assert record == env.issue_records(TIANFU)[0]["id"]
    assert_money_invariant(env)


@pytest.mark.parametrize("mode", ["new_quota", "top_up"])
@pytest.mark.parametrize("fault", ["drop_before_commit", "http_500"])
def test_an_issue_that_never_ran_is_settled_then_issued_exactly_once(
    env: Env, fault: str, mode: str
) -> None:
    _issue_mode(env, mode)
    manifests = env.manifests({MAIN: {TIANFU: "45000.00", PENGCHENG: "1000.00"}})
    env.emu.add_fault(ISSUE, fault, skip=1)  # the second issue call: tianfu's 15000.00
    first = env.cli("apply", manifests, "--auto-approve")
    assert first.exit_code == 5, first.output
    assert "1 applied, 0 failed, 0 manual, 1 unknown" in first.output
    assert env.balance(TIANFU, MAIN) == Decimal("30000.00")
    # No record, no growth, but sent less than the in-flight horizon ago: it may still land,
    # so the pair stays frozen and nothing is written to it.
    seq = env.last_seq()
    frozen = env.cli("apply", manifests, "--auto-approve", extra_env=LONG_HORIZON)
    assert frozen.exit_code == 5, frozen.output
    assert "may still be in flight" in frozen.output
    assert "1 frozen" in frozen.output
    assert env.writes(since=seq) == []
    rerun = env.cli("apply", manifests, "--auto-approve", "--wait")
    assert rerun.exit_code == 0, rerun.output
    assert "Settled 1 open operation(s)" in rerun.output
    assert env.balance(TIANFU, MAIN) == Decimal("45000.00")
    assert len(env.issue_records(TIANFU)) == 1
    assert [c["operation"] for c in env.writes()] == [ISSUE, ISSUE, ISSUE]
    assert env.journal_rows("SELECT state FROM items ORDER BY rowid") == [
        ("committed",),
        ("settled-not-committed",),
        ("committed",),
    ]
    assert_money_invariant(env)


def test_commit_then_drop_on_a_reclaim_is_proven_by_its_record_and_the_reissue_follows(
    env: Env,
) -> None:
    manifests = env.manifests({MAIN: {QINLING: "12000.00"}})
    env.emu.add_fault(RECLAIM, "commit_then_drop")
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert [c["operation"] for c in env.writes()] == [RECLAIM, ISSUE]
    assert env.balance(QINLING, MAIN) == Decimal("12000.00")
    [(state, amount)] = env.journal_rows(
        "SELECT state, amount FROM items WHERE item_id = ?", QINLING_CHILD
    )
    assert (state, amount) == ("settled-committed", "18500.00")
    assert_money_invariant(env)


def test_only_the_failed_items_of_a_200_answer_are_retried(env: Env) -> None:
    manifests = env.manifests(
        {MAIN: {TIANFU: "31000.00", QINLING: "19500.00", PENGCHENG: "1000.00"}}
    )
    env.emu.add_fault(ISSUE, "item_error", ids=[QINLING], error_code="CBC.99000099")
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 0, result.output
    bodies = [json.loads(c["body"]) for c in env.writes()]
    assert sorted(bodies[0]["indirect_partner_ids"]) == sorted([TIANFU, QINLING, PENGCHENG])
    assert bodies[1]["indirect_partner_ids"] == [QINLING]
    assert len(bodies) == 2
    for reseller in (TIANFU, QINLING, PENGCHENG):
        assert len(env.issue_records(reseller)) == 1
    assert env.balance(QINLING, MAIN) == Decimal("19500.00")
    assert_money_invariant(env)


def test_an_item_that_keeps_failing_is_reported_with_the_api_error_code(env: Env) -> None:
    manifests = env.manifests({MAIN: {TIANFU: "31000.00", QINLING: "19500.00"}})
    env.emu.add_fault(ISSUE, "item_error", ids=[QINLING], error_code="CBC.50010105", count=2)
    report = env.root / "report.json"
    result = env.cli("apply", manifests, "--auto-approve", "--report", report)
    assert result.exit_code == 5, result.output
    assert "1 applied, 1 failed" in result.output
    assert "CBC.50010105" in result.output
    assert len(env.writes()) == 2  # the batch, then one retry of the failed reseller
    data = json.loads(report.read_text())
    failed = [c for c in data["changes"] if c["status"] == "failed"]
    assert [c["key"] for c in failed] == [f"reseller-quota/{MAIN}/{QINLING}"]
    codes = {i["error_code"] for op in failed[0]["operations"] for i in op["items"]}
    assert codes == {"CBC.50010105"}
    assert env.balance(TIANFU, MAIN) == Decimal("31000.00")
    assert_money_invariant(env)


def test_a_failed_reclaim_skips_the_dependent_issue(env: Env) -> None:
    manifests = env.manifests({MAIN: {QINLING: "12000.00", TIANFU: "31000.00"}})
    env.emu.add_fault(RECLAIM, "item_error", ids=[QINLING_CHILD], count=2)
    result = env.cli("apply", manifests, "--auto-approve")
    assert result.exit_code == 5, result.output
    assert "1 applied, 1 failed" in result.output
    assert "the reclaim of 2025081506220412 did not happen" in result.output
    writes = env.writes()
    assert [c["operation"] for c in writes] == [RECLAIM, RECLAIM, ISSUE]
    assert json.loads(writes[2]["body"])["indirect_partner_ids"] == [TIANFU]
    assert env.balance(QINLING, MAIN) == Decimal("18500.00")
    assert_money_invariant(env)


def test_a_lost_auto_renew_answer_is_retried_because_it_sets_a_state(env: Env) -> None:
    folder = env.root / "renew"
    folder.mkdir()
    (folder / "renew.yaml").write_text(
        "apiVersion: partner-reconciler/v1\nkind: AutoRenew\nmetadata: {name: r}\nspec:\n"
        "  customers:\n    - {customer: taihe-finance, autoRenew: true}\n"
    )
    (folder / "settings.yaml").write_text(
        "apiVersion: partner-reconciler/v1\nkind: Settings\nmetadata: {name: s}\n"
        "spec: {agencyName: demo_distributor_platform}\n"
    )
    env.emu.add_fault("auto_renewal_resources", "commit_then_drop")
    result = env.cli("apply", folder, "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Apply: 1 applied" in result.output
    assert len(env.calls("auto_renewal_resources")) == 2
    assert env.cli("plan", folder, "--detailed-exitcode").exit_code == 0
