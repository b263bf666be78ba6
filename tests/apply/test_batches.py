"""The API's batch limits: 100 resellers per issue, 10 quotas per reclaim."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from .conftest import DEMO_DOC, MAIN, Env, assert_money_invariant, serving

RECLAIMED = [f"{n:032x}" for n in range(1, 13)]  # 12 resellers whose quota goes back
ISSUED = [f"{n:032x}" for n in range(100, 205)]  # 105 resellers that get 100.00 each


def _seed() -> dict[str, object]:
    doc = copy.deepcopy(DEMO_DOC)
    for rid in RECLAIMED + ISSUED:
        doc["resellers"].append({"indirect_partner_id": rid, "account_name": f"r-{rid[-4:]}"})
    for n, rid in enumerate(RECLAIMED):
        doc["issued_quotas"].append(
            {
                "quota_id": f"3000000000{n:06d}",
                "parent_quota_id": MAIN,
                "indirect_partner_id": rid,
                "quota_value": "500.00",
                "balance": "500.00",
                "quota_status": 0,
            }
        )
    return doc


@pytest.fixture
def big(env: Env) -> Iterator[Env]:
    """A served emulator held in memory (hundreds of calls; no state file to rewrite)."""
    with serving(env, _seed(), RECONCILER_RATE="2000") as served:
        yield served


def test_issues_go_100_resellers_per_call_and_reclaims_10_quotas_per_call(big: Env) -> None:
    targets = dict.fromkeys(RECLAIMED, "0.00") | dict.fromkeys(ISSUED, "100.00")
    manifests = big.manifests({MAIN: targets})
    report = big.root / "report.json"
    result = big.cli("apply", manifests, "--auto-approve", "--report", report)
    assert result.exit_code == 0, result.output
    totals = json.loads(report.read_text())["totals"]
    assert (totals["applied"], totals["money"]["issued"], totals["money"]["reclaimed"]) == (
        117,
        "10500.00",
        "6000.00",
    )
    writes = big.writes()
    assert [c["operation"] for c in writes] == ["reclaim_coupon_quotas"] * 2 + [
        "update_coupon_quotas"
    ] * 2
    reclaims = [json.loads(c["body"])["quota_ids"] for c in writes[:2]]
    issues = [json.loads(c["body"])["indirect_partner_ids"] for c in writes[2:]]
    assert [len(r) for r in reclaims] == [10, 2]
    assert [len(i) for i in issues] == [100, 5]
    assert sorted(i for batch in issues for i in batch) == ISSUED

    assert big.cli("plan", manifests, "--detailed-exitcode").exit_code == 0
    assert big.balance(ISSUED[0], MAIN) == Decimal("100.00")
    assert_money_invariant(big)
