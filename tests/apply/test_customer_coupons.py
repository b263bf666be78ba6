"""CustomerCoupons end to end through the CLI against the emulator: the example converges, a
second apply writes nothing, guards, drift, export round trip, and the money invariant."""

from __future__ import annotations

import copy
import json
import shutil
from decimal import Decimal

import jsonschema

from .conftest import DEMO_DOC, EXAMPLES, REPO, Env
from .coupons import (
    HUAXIA,
    LINGYUN,
    QUOTA,
    SHU,
    TIANFU,
    TIANFU_QUOTA,
    XINGHE,
    XINGHE_EC2,
    XINGHE_OLD,
    XINGHE_REPLACED,
    assert_coupon_money,
    coupon_manifests,
    coupon_writes,
    quota_balance,
    usable,
)

DRIFT_SCHEMA = json.loads((REPO / "schemas" / "drift.schema.json").read_text(encoding="utf-8"))


def _example(env: Env) -> str:
    folder = env.root / "example"
    folder.mkdir()
    for name in ("settings.yaml", "customer-coupons.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    return str(folder)


def test_the_example_converges_and_a_second_apply_writes_nothing(env: Env) -> None:
    manifests = _example(env)
    plan = env.cli("plan", manifests, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "Plan: 2 changes" in plan.output
    assert "1,800.00 CNY already spent cannot come back" in plan.output
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 applied, 0 failed, 0 manual, 0 unknown" in applied.output

    held = usable(env, XINGHE)
    assert XINGHE_OLD not in held and XINGHE_EC2 in held
    assert sorted(c["face_value"] for c in held.values()) == ["1500.00", "4000.00"]
    assert env.state()["coupons"][XINGHE_OLD]["status"] == 5
    [lingyun] = usable(env, LINGYUN).values()
    assert lingyun["face_value"] == "500.00"
    assert [u["value1"] for u in lingyun["use_limits"]] == ["game-server-bundle"]
    assert list(usable(env, HUAXIA)) == ["CP20251015090000000003"]  # untouched
    # 4,000.00 + 500.00 out, the reclaimed coupon's 3,200.00 back
    assert quota_balance(env) == Decimal("90050.00") - Decimal("4500.00") + Decimal("3200.00")
    assert_coupon_money(env)

    clean = env.cli("plan", manifests, "--detailed-exitcode")
    assert clean.exit_code == 0, clean.output
    assert "No changes." in clean.output
    seq = env.last_seq()
    again = env.cli("apply", manifests, "--auto-approve")
    assert again.exit_code == 0, again.output
    assert coupon_writes(env, since=seq) == []


def test_a_resellers_customer_gets_its_coupon_from_the_resellers_quota(env: Env) -> None:
    manifests = coupon_manifests(
        env,
        f"""\
    - customer: shu-brocade
      reseller: tianfu-cloud
      coupons:
        - {{faceValue: "300.00", quota: "{TIANFU_QUOTA}"}}
""",
    )
    before = quota_balance(env, TIANFU_QUOTA)
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "customer of reseller tianfu-cloud" in applied.output
    [shu] = usable(env, SHU).values()
    assert (shu["face_value"], shu["quota_id"]) == ("300.00", TIANFU_QUOTA)
    [issue] = coupon_writes(env)
    assert json.loads(issue["body"])["indirect_partner_id"] == TIANFU
    assert quota_balance(env, TIANFU_QUOTA) == before - Decimal("300.00")
    assert_coupon_money(env)
    assert env.cli("plan", manifests, "--detailed-exitcode").exit_code == 0


def test_a_reclaim_comes_back_before_the_issue_and_the_report_counts_both(env: Env) -> None:
    manifests = coupon_manifests(env, XINGHE_REPLACED)
    report = env.root / "report.json"
    applied = env.cli("apply", manifests, "--auto-approve", "--report", report)
    assert applied.exit_code == 0, applied.output
    writes = coupon_writes(env)
    assert [w["operation"] for w in writes] == [
        "reclaim_partner_coupons",
        "create_partner_coupons",
    ]
    assert json.loads(writes[0]["body"]) == {"coupon_id": XINGHE_OLD}
    issued = json.loads(writes[1]["body"])
    assert (issued["quota_id"], issued["customer_ids"], issued["face_value"]) == (
        QUOTA, [XINGHE], 4000.00,
    )  # fmt: skip
    money = json.loads(report.read_text())["totals"]["money"]
    assert (money["issued"], money["reclaimed"]) == ("4000.00", "3200.00")
    assert_coupon_money(env)


def test_a_guard_stops_apply_before_any_coupon_is_issued(env: Env) -> None:
    manifests = coupon_manifests(env, XINGHE_REPLACED, per_customer="1000.00")
    blocked = env.cli("apply", manifests, "--auto-approve")
    assert blocked.exit_code == 3, blocked.output
    assert "max-coupon-issue-per-customer" in blocked.output
    assert coupon_writes(env) == []
    allowed = env.cli(
        "apply", manifests, "--auto-approve", "--allow", "max-coupon-issue-per-customer"
    )
    assert allowed.exit_code == 0, allowed.output
    assert_coupon_money(env)


def test_drift_shows_each_customer_with_both_sides_and_apply_heals_it(env: Env) -> None:
    manifests = coupon_manifests(env, XINGHE_REPLACED)
    drift = env.cli("drift", manifests, "--format", "json")
    assert drift.exit_code == 2, drift.output
    data = json.loads(drift.stdout)
    jsonschema.Draft202012Validator(DRIFT_SCHEMA).validate(data)
    [item] = data["items"]
    assert (item["kind"], item["key"]) == ("customer-coupons", f"customer-coupons/{XINGHE}")
    assert (item["healable"], item["heal"]) == (True, "apply")
    assert item["money"]["reclaim"] == "3200.00" and item["money"]["issue"] == "4000.00"
    assert "1,800.00 CNY already spent cannot come back" in item["reason"]
    assert XINGHE_OLD in json.dumps(item["live"])
    text = env.cli("drift", manifests)
    assert "xinghe-net" in text.output
    healed = env.cli("apply", manifests, "--auto-approve")
    assert healed.exit_code == 0, healed.output
    clean = env.cli("drift", manifests)
    assert clean.exit_code == 0, clean.output
    assert_coupon_money(env)


def test_export_writes_what_customers_hold_and_planning_it_changes_nothing(env: Env) -> None:
    out = env.root / "adopted"
    exported = env.cli("export", out, "--kind", "customer-coupons")
    assert exported.exit_code == 0, exported.output
    assert "2 customers, 3 coupons" in exported.output
    documents = [
        line.split("#")[0] for line in (out / "customer-coupons.yaml").read_text().splitlines()
    ]
    assert not any(XINGHE_OLD in line for line in documents)  # ids only in comments
    assert sum('faceValue: "5000.00"' in line for line in documents) == 1
    plan = env.cli("plan", out, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output
    # After an apply, export again: the new coupons plan clean too.
    assert env.cli("apply", coupon_manifests(env, XINGHE_REPLACED), "--auto-approve").exit_code == 0
    again = env.cli("export", out, "--kind", "customer-coupons", "--force")
    assert again.exit_code == 0, again.output
    assert env.cli("plan", out, "--detailed-exitcode").exit_code == 0


def test_a_coupon_id_the_api_would_not_take_back_stops_the_plan_clearly(env: Env) -> None:
    """Live data is untrusted: a coupon whose id could be neither looked up nor reclaimed
    (longer than the API's 64 characters) is refused when read, naming the field."""
    doc = copy.deepcopy(DEMO_DOC)
    for item in (*doc["coupons"], *doc["coupon_records"]):
        if item["coupon_id"] == XINGHE_OLD:
            item["coupon_id"] = "C" * 65
    env.emu.load_seed(doc)
    plan = env.cli("plan", coupon_manifests(env, XINGHE_REPLACED))
    assert plan.exit_code == 1, plan.output
    assert "(list_issued_partner_coupons) answered without a usable field" in plan.output
    assert "coupon_id has 65 characters, more than the 64 the API accepts" in plan.output
    assert "Traceback" not in plan.output
    assert coupon_writes(env) == []
