"""Hostile values in the live data CustomerCoupons prints: customer and reseller names, coupon
ids and a restriction value (chosen by third parties or the API). Through plan and drift
in every format, apply (text, JSON report), journal list and export followed by plan: every
output safe for its medium, the same shape as with benign values, and the export plans clean.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from typing import Any

import pytest

from .harness import DEMO, by_slots, check_text, hostile_account, line_count, plan_and_drift, slots
from .hostile import assert_markdown_safe

XINGHE, LINGYUN = "ed0e5914c5e5fc0a8a8d3bcc812f2330", "1e7b4d0f27f893eeb9e53607e347368e"
SHU, TIANFU = "bf71f3f9e4cc1dcc8dc09121aa1be99c", "481e93b261dc952c7eebe1950ebb9fa6"
QUOTA, TIANFU_QUOTA = "2025053009301544", "2025080209150301"
OLD = "CP20251201020000000001"  # xinghe-net's 5,000.00 coupon: reclaimed by the manifest
KEPT = "CP20251201020000000002"  # xinghe-net's 1,500.00 EC2 coupon: kept
SLOTS = 7

MANIFESTS = {
    "settings.yaml": """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  guards: {maxChangePercent: 100}
""",
    "coupons.yaml": f"""\
apiVersion: partner-reconciler/v1
kind: CustomerCoupons
metadata: {{name: coupons}}
spec:
  quota: "{QUOTA}"
  customers:
    - customerId: "{XINGHE}"
      exclusive: true
      coupons:
        - faceValue: "1500.00"
          validTime: "2025-12-01T00:00:00Z"
          expireTime: "2028-11-30T15:59:59Z"
          cloudServiceTypes: [hws.service.type.ec2]
    - customerId: "{LINGYUN}"
      coupons:
        - {{faceValue: "500.00", expireTime: "2027-12-31T15:59:59Z"}}
    - customerId: "{SHU}"
      resellerId: "{TIANFU}"
      coupons:
        - {{faceValue: "300.00", quota: "{TIANFU_QUOTA}"}}
""",
}


def plant(names: Sequence[str]) -> dict[str, Any]:
    """The demo seed with ``names`` in seven third-party fields."""
    doc = copy.deepcopy(DEMO)
    by_id = {c["customer_id"]: c for c in doc["customers"]}
    by_id[XINGHE]["account_name"] = names[0]
    by_id[LINGYUN]["account_name"] = names[2]
    tianfu = next(r for r in doc["resellers"] if r["indirect_partner_id"] == TIANFU)
    tianfu["account_name"] = names[3]
    next(c for c in tianfu["customers"] if c["customer_id"] == SHU)["account_name"] = names[5]
    old = next(c for c in doc["coupons"] if c["coupon_id"] == OLD)
    old["use_limits"] = [{"limit_key": "product_ids", "value1": names[6], "value2": ""}]
    for slot, coupon_id in ((1, OLD), (4, KEPT)):  # the API's coupon ids, in its records too
        for item in (*doc["coupons"], *doc["coupon_records"]):
            if item["coupon_id"] == coupon_id:
                item["coupon_id"] = names[slot][:64]  # longer ones are refused when read
    return doc


def every_command(names: Sequence[str]) -> dict[str, int]:
    lines: dict[str, int] = {}
    with hostile_account(plant(names), MANIFESTS) as acct:
        plan_and_drift(acct, lines, drift_details=0)
        report = acct.root / "report.json"
        applied = acct.run("apply", acct.manifests, "--auto-approve", "--report", str(report))
        assert applied.exit_code == 0, applied.output
        check_text(applied, acct)
        json.loads(report.read_text(encoding="utf-8"))
        lines["apply"] = line_count(applied.stdout)
        journal = acct.run("journal", "list")
        check_text(journal, acct)
        lines["journal"] = line_count(journal.stdout)
        exported = acct.run("export", str(acct.root / "adopted"), "--kind", "customer-coupons")
        assert exported.exit_code == 0, exported.output
        check_text(exported, acct)
        again = acct.run("plan", str(acct.root / "adopted"), "--detailed-exitcode")
        assert again.exit_code == 0, again.output
        lines["export"] = line_count(exported.stdout)
        steps = acct.run("plan", acct.manifests, "--format", "markdown")
        assert_markdown_safe(steps.stdout)
    return lines


@functools.cache
def benign_lines() -> dict[str, int]:
    return every_command([f"benign-{n}" for n in range(SLOTS)])


@pytest.mark.slow
@by_slots(SLOTS)
def test_every_sample_in_what_customer_coupons_print(offset: int) -> None:
    assert every_command(slots(offset, SLOTS)) == benign_lines()
