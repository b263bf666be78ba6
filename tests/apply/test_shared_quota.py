"""One coupon quota drawn on by two kinds in one run, end to end through the CLI against the
emulator: the distributor quota that ResellerQuota issues to resellers from is also the quota
CustomerCoupons cuts the partner's customers' coupons from (REFERENCE §7.9, §7.13: both take a
quota of ``list_quota_coupons``), and a reseller's own quota that ResellerQuota reclaims whole
is the one its customers' coupons come from.

The plan checks what every kind draws on the quota together against its balance (exit 1, the
quota, each kind's draw and the balance named); apply never runs two kinds' writes on one quota
at once (the API refuses a second operation on a quota while one runs, ``CBC.50000045``): what
gives back runs first, then what takes, kinds in plan order.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from .conftest import MAIN, QINLING, SECOND, TIANFU, Env, balances, journal_money
from .coupons import LINGYUN, SHU, TIANFU_QUOTA, journal_coupons, new_records, quota_balance

SETTINGS = """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  operator: demo-distributor
  guards:
    maxChangePercent: 100
    maxIssuePerRun: "900000.00"
    maxIssuePerReseller: "900000.00"
    maxReclaimsPerRun: 50
    maxCouponIssuePerRun: "50000.00"
    maxCouponIssuePerCustomer: "10000.00"
  planTtl: 1h
"""
ZERO = Decimal("0.00")
WRITES = (
    "update_coupon_quotas",
    "reclaim_coupon_quotas",
    "create_partner_coupons",
    "reclaim_partner_coupons",
)


def _quota(parent: str, balances: dict[str, str]) -> str:
    rows = "".join(f'    - {{resellerId: "{r}", balance: "{b}"}}\n' for r, b in balances.items())
    return f"""\
apiVersion: partner-reconciler/v1
kind: ResellerQuota
metadata: {{name: quota-{parent}}}
spec:
  distributorQuota: "{parent}"
  resellers:
{rows}"""


def _coupon(customer: str, face_value: str, quota: str, reseller: str | None = None) -> str:
    owner = f'      resellerId: "{reseller}"\n' if reseller else ""
    return f"""\
apiVersion: partner-reconciler/v1
kind: CustomerCoupons
metadata: {{name: coupons-{customer}}}
spec:
  customers:
    - customerId: "{customer}"
{owner}      coupons:
        - {{faceValue: "{face_value}", quota: "{quota}", expireTime: "2027-12-31T15:59:59Z"}}
"""


def _manifests(env: Env, *docs: str) -> Path:
    folder = env.root / "manifests"
    folder.mkdir(exist_ok=True)
    (folder / "settings.yaml").write_text(SETTINGS)
    (folder / "both.yaml").write_text("---\n".join(docs))
    return folder


def _writes(env: Env, since: int = 0) -> list[dict[str, object]]:
    return [c for c in env.calls() if c["operation"] in WRITES and int(c["seq"]) > since]


def _assert_money(env: Env) -> None:
    """Every write the journal holds committed is one record of the API and nothing else moved:
    each quota's balance moved by what both kinds issued from it and reclaimed into it."""
    quotas = journal_money(env)  # (operation, reseller, parent) -> amount
    coupons = journal_coupons(env)  # (operation, customer, quota) -> amount
    records: dict[tuple[str, str, str], Decimal] = {}
    for r in env.state()["records"][len(env.initial["records"]) :]:
        if r["result"] == "0":
            op = WRITES[0] if r["operation_type"] == "10" else WRITES[1]
            key = (op, r["indirect_partner_id"], r["parent_quota_id"])
            records[key] = records.get(key, ZERO) + Decimal(r["amount"])
    assert records == quotas
    cut: dict[tuple[str, str, str], Decimal] = {}
    for kind, op in (("1", WRITES[2]), ("2", WRITES[3])):
        for r in new_records(env, kind):
            key = (op, r["customer_id"], r["quota_id"])
            cut[key] = cut.get(key, ZERO) + Decimal(r["operation_amount"])
    assert cut == coupons
    before, after = balances(env.initial), balances(env.state())
    for quota in (MAIN, SECOND):
        out = sum((v for k, v in quotas.items() if k[0] == WRITES[0] and k[2] == quota), ZERO)
        out += sum((v for k, v in coupons.items() if k[0] == WRITES[2] and k[2] == quota), ZERO)
        back = sum((v for k, v in quotas.items() if k[0] == WRITES[1] and k[2] == quota), ZERO)
        back += sum((v for k, v in coupons.items() if k[0] == WRITES[3] and k[2] == quota), ZERO)
        assert after[(quota, "")] == before[(quota, "")] - out + back, quota


def test_both_kinds_on_one_quota_apply_one_after_the_other(env: Env) -> None:
    """Each write holds the quota for a while (latency): run concurrently, the second kind's
    call met CBC.50000045 and its change failed. Serialised, both apply, and the quota moved by
    exactly what both did."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "35000.00"}),
        _coupon(LINGYUN, "500.00", MAIN),
    )
    for operation in ("update_coupon_quotas", "create_partner_coupons"):
        env.emu.add_fault(operation, "latency", seconds=0.4, count=5)
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 applied, 0 failed, 0 manual, 0 unknown" in applied.output
    assert [c["operation"] for c in _writes(env)] == [
        "update_coupon_quotas",
        "create_partner_coupons",
    ]
    assert quota_balance(env, MAIN) == Decimal("445000.00") - Decimal("5500.00")
    assert env.balance(TIANFU, MAIN) == Decimal("35000.00")
    _assert_money(env)
    again = env.cli("plan", manifests, "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_combined_draw_beyond_the_balance_stops_the_plan(env: Env) -> None:
    """440,000.00 to tianfu-cloud and a 10,000.00 coupon fit the quota's 445,000.00 each on
    its own; together they do not. The plan stops before anything is written, naming the quota,
    each kind's draw and the balance."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    plan = env.cli("plan", manifests, "--detailed-exitcode")
    assert plan.exit_code == 1, plan.output
    text = " ".join(plan.output.split())
    assert f"coupon quota {MAIN}" in text, text
    assert "Reseller quota: takes 440,000.00" in text, text
    assert "Customer coupons: takes 10,000.00" in text, text
    assert "450,000.00 together" in text and "holds 445,000.00" in text, text
    assert "lower them by 5,000.00 or top up the coupon quota" in text, text
    assert "both.yaml:" in text, text
    seq = env.last_seq()
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 1, applied.output
    assert _writes(env, since=seq) == []
    drift = env.cli("drift", manifests)  # lists it with what keeps apply from running
    assert drift.exit_code == 2, drift.output
    assert f"coupon quota {MAIN} is drawn on by 2 kinds" in " ".join(drift.output.split())
    # each on its own plans
    for doc in (_quota(MAIN, {TIANFU: "470000.00"}), _coupon(LINGYUN, "10000.00", MAIN)):
        alone = env.cli("plan", _manifests(env, doc), "--detailed-exitcode")
        assert alone.exit_code == 2, alone.output


def test_a_reclaim_of_one_kind_frees_balance_for_the_other(env: Env) -> None:
    """qinling-digital's 18,500.00 come back to the quota before anything is issued from it,
    so 440,000.00 to tianfu-cloud and a 10,000.00 coupon fit together (431,500.00 net)."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "470000.00", QINLING: "0.00"}),
        _coupon(LINGYUN, "10000.00", MAIN),
    )
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 3 applied" in applied.output
    operations = [c["operation"] for c in _writes(env)]
    assert operations == ["reclaim_coupon_quotas", "update_coupon_quotas", "create_partner_coupons"]
    assert quota_balance(env, MAIN) == Decimal("445000.00") + Decimal("18500.00") - Decimal(
        "450000.00"
    )
    _assert_money(env)


def test_a_resellers_quota_reclaimed_whole_cannot_also_fund_its_customers_coupon(
    env: Env,
) -> None:
    """Lowering tianfu-cloud's balance reclaims its quota 2025080209150301 whole; a coupon for
    its customer cut from that same quota in the same run cannot be had: the plan says so."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "10000.00"}),
        _coupon(SHU, "300.00", TIANFU_QUOTA, reseller=TIANFU),
    )
    plan = env.cli("plan", manifests, "--detailed-exitcode")
    assert plan.exit_code == 1, plan.output
    text = " ".join(plan.output.split())
    assert f"coupon quota {TIANFU_QUOTA}" in text, text
    assert "Reseller quota: takes its whole balance" in text, text
    assert "Customer coupons: takes 300.00" in text, text


def test_a_quota_one_kind_draws_on_applies_as_before_beside_the_shared_one(env: Env) -> None:
    """The second distributor quota is ResellerQuota's alone: its change is not part of the
    sequence on the shared quota (tests/plan/test_shared_pools.py has which changes run beside
    it) and applies as before."""
    manifests = _manifests(
        env,
        _quota(MAIN, {TIANFU: "35000.00"}),
        _quota(SECOND, {TIANFU: "8000.00"}),
        _coupon(LINGYUN, "500.00", MAIN),
    )
    applied = env.cli("apply", manifests, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply: 3 applied, 0 failed" in applied.output
    assert env.balance(TIANFU, SECOND) == Decimal("8000.00")
    _assert_money(env)
