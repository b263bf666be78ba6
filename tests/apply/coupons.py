"""Helpers for CustomerCoupons end to end: manifests, what the emulator holds, and the money
invariant of coupons (per quota and per customer, from the journal and the API's records)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.apply.journal import Journal

from .conftest import Env

# The demo seed (reconciler/emulator/seeds/demo.yaml).
QUOTA = "2025053009301544"  # the partner's quota for customer coupons: 90,050.00 left
TIANFU_QUOTA = "2025080209150301"  # tianfu-cloud's quota, for its own customers
XINGHE = "ed0e5914c5e5fc0a8a8d3bcc812f2330"  # holds 5,000.00 (3,200.00 left) and 1,500.00 EC2
HUAXIA = "8b465a3f89f3c847bf335bcbb874b004"  # holds 2,000.00
LINGYUN = "1e7b4d0f27f893eeb9e53607e347368e"  # its 3,000.00 coupon was reclaimed: holds none
SHU = "bf71f3f9e4cc1dcc8dc09121aa1be99c"  # shu-brocade, a customer of tianfu-cloud
TIANFU = "481e93b261dc952c7eebe1950ebb9fa6"
XINGHE_OLD = "CP20251201020000000001"  # 5,000.00, 1,800.00 spent
XINGHE_EC2 = "CP20251201020000000002"

ISSUE = "create_partner_coupons"
RECLAIM = "reclaim_partner_coupons"
RECORDS = "list_partner_coupons_record"
WRITES = (ISSUE, RECLAIM)
LONG = {"RECONCILER_IN_FLIGHT_HORIZON": "600"}
ZERO = Decimal("0.00")

SETTINGS = """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  guards:
    maxChangePercent: 100
    maxCouponIssuePerRun: "50000.00"
    maxCouponIssuePerCustomer: "%(per_customer)s"
    maxCouponReclaimsPerRun: 10
  planTtl: 1h
"""
HEAD = f"""\
apiVersion: partner-reconciler/v1
kind: CustomerCoupons
metadata: {{name: coupons}}
spec:
  quota: "{QUOTA}"
  customers:
"""
#: lingyun-games gets a 500.00 coupon (one issue call)
LINGYUN_500 = f"""\
    - customerId: "{LINGYUN}"
      coupons:
        - {{faceValue: "500.00", expireTime: "2027-12-31T15:59:59Z"}}
"""
#: xinghe-net keeps its EC2 coupon only: its 5,000.00 coupon is reclaimed (3,200.00 back)
XINGHE_EC2_ONLY = f"""\
    - customerId: "{XINGHE}"
      exclusive: true
      coupons:
        - faceValue: "1500.00"
          validTime: "2025-12-01T00:00:00Z"
          expireTime: "2028-11-30T15:59:59Z"
          cloudServiceTypes: [hws.service.type.ec2]
"""
#: xinghe-net's 5,000.00 coupon is replaced by a 4,000.00 one: a reclaim, then an issue
XINGHE_REPLACED = (
    XINGHE_EC2_ONLY
    + """\
        - {faceValue: "4000.00", expireTime: "2028-11-30T15:59:59Z", memo: FY2026 cloud credit}
"""
)


def coupon_manifests(
    env: Env, customers: str, *, per_customer: str = "10000.00", name: str = "coupons"
) -> Path:
    """A folder with Settings (coupon guards) and one CustomerCoupons document."""
    folder = env.root / name
    folder.mkdir(exist_ok=True)
    (folder / "settings.yaml").write_text(SETTINGS % {"per_customer": per_customer})
    (folder / "coupons.yaml").write_text(HEAD + customers)
    return folder


def settle_by_hand(env: Env, extra_env: Mapping[str, str] | None = None) -> str:
    """The one open operation, settled "committed" by a person who checked the API's records:
    a coupon record names no operator, so it never settles a lost answer (unknown owner)."""
    [(op_id,)] = env.journal_rows(
        "SELECT DISTINCT op_id FROM items WHERE state IN ('pending', 'unknown')"
    )
    settled = env.cli(
        "journal", "settle", op_id, "--committed", "--checked-api-records", extra_env=extra_env
    )
    assert settled.exit_code == 0, settled.output
    return str(op_id)


def coupon_writes(env: Env, since: int = 0) -> list[dict[str, Any]]:
    return [c for c in env.calls() if c["operation"] in WRITES and c["seq"] > since]


def usable(env: Env, customer: str) -> dict[str, dict[str, Any]]:
    """The customer's usable coupons (status 2), by id."""
    return {
        cid: c
        for cid, c in env.state()["coupons"].items()
        if c["customer_id"] == customer and c["status"] == 2
    }


def quota_balance(env: Env, quota: str = QUOTA) -> Decimal:
    return Decimal(env.state()["quotas"][quota]["balance"])


def new_records(env: Env, kind: str, customer: str | None = None) -> list[dict[str, Any]]:
    """Successful coupon records of type ``kind`` ("1" issue, "2" reclaim) since the seed."""
    return [
        r
        for r in env.state()["coupon_records"][len(env.initial["coupon_records"]) :]
        if r["operation_type"] == kind
        and r["result"] == "0"
        and (customer is None or r["customer_id"] == customer)
    ]


def journal_coupons(
    env: Env, journal: str | Path | None = None
) -> dict[tuple[str, str, str], Decimal]:
    """(operation, customer, quota) -> the committed amount the journal accounts for, and
    (operation, "records", "") -> how many distinct records its committed items name."""
    out: dict[tuple[str, str, str], Decimal] = {}
    jrnl = Journal.open(journal or env.journal_file)
    records: set[str] = set()
    try:
        for op in jrnl.operations():
            if op.operation not in WRITES:
                continue
            for item in op.items:
                if not item.committed or item.amount is None:
                    continue
                key = (op.operation, str(item.reseller_id), op.target)
                out[key] = out.get(key, ZERO) + Decimal(item.amount)
                if item.state == "settled-committed" and item.record_id is None:
                    continue  # a person said it took effect: an issue names no coupon to link
                assert item.record_id and item.record_id not in records, item
                records.add(item.record_id)
    finally:
        jrnl.close()
    return out


def assert_coupon_money(
    env: Env,
    journal: str | Path | None = None,
    external: Mapping[tuple[str, str, str], Decimal] | None = None,
) -> None:
    """Every committed issue and reclaim the journal holds is one record of the API, and the
    records hold nothing else (bar ``external``: (operation, customer, quota) -> amount someone
    else moved); each quota's balance moved by exactly what they say."""
    moved = journal_coupons(env, journal)
    expected = dict(moved)
    for key, value in (external or {}).items():
        expected[key] = expected.get(key, ZERO) + value
    seen: dict[tuple[str, str, str], Decimal] = {}
    for kind, operation in (("1", ISSUE), ("2", RECLAIM)):
        for r in new_records(env, kind):
            key = (operation, r["customer_id"], r["quota_id"])
            seen[key] = seen.get(key, ZERO) + Decimal(r["operation_amount"])
    assert seen == expected
    # the quotas coupons are cut from (resellers' quotas also move with ResellerQuota)
    cut_from = {c["quota_id"] for c in env.state()["coupons"].values()} | {k[2] for k in expected}
    for quota, before in env.initial["quotas"].items():
        if quota not in cut_from:
            continue
        out = sum((v for k, v in expected.items() if k[0] == ISSUE and k[2] == quota), ZERO)
        back = sum((v for k, v in expected.items() if k[0] == RECLAIM and k[2] == quota), ZERO)
        assert quota_balance(env, quota) == Decimal(before["balance"]) - out + back, quota
