"""Export writes what customers hold so that planning the file finds nothing to do: checked on
the demo's shapes and on generated accounts (hypothesis), through the real YAML reader."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.bss.coupons import PartnerCoupon
from reconciler.bss.models import IndirectPartner, QuotaLimit
from reconciler.gitops.account import ExportAccount
from reconciler.kinds.customer_coupons.desired import local_problems
from reconciler.kinds.customer_coupons.export import CouponExport, Holding, render, undeclared
from reconciler.kinds.customer_coupons.live import CouponsLive, Holder
from reconciler.kinds.customer_coupons.plan import diff
from reconciler.plan.model import Change

from .builders import EC2, NOW, Q, coupon, customer, from_yaml, issue_record, quota

Shape = tuple[str, str | None, str | None, tuple[str, ...], int]

FAST = settings(max_examples=60, derandomize=True, database=None, deadline=None)
TIANFU = IndirectPartner("r-1", "tianfu-cloud", None, None, None, None, None, None)


def _holding(
    cid: str, coupons: list[PartnerCoupon], owner: IndirectPartner | None = None
) -> Holding:
    live = CouponsLive(now=0)
    live.coupons[cid] = coupons
    for c in coupons:
        live.issue_records[c.coupon_id] = [issue_record(c, "RQ" if owner else Q)]
    return Holding(customer(cid).replace(account_name=f"acct-{cid}"), owner, live)


def _plan(tmp_path: Path, data: CouponExport) -> tuple[str, list[Change]]:
    account = ExportAccount("p-1", "(embedded)", None)
    text, _ = render(account, data, "../schemas", lambda _holding: True)
    entries = from_yaml(tmp_path, text) if "customers: []" not in text else []
    assert local_problems(entries) == []
    live = CouponsLive(now=NOW)
    for owner, quotas in data.quotas.items():
        for q in quotas.values():
            live.quotas[(owner, q.quota_id)] = q
    for h, e in zip([h for h in data.holdings if _written(h, text)], entries, strict=True):
        live.holders[e.source] = Holder(
            h.customer, h.reseller.indirect_partner_id if h.reseller else None
        )
        live.coupons.update(h.live.coupons)
        live.issue_records.update(h.live.issue_records)
    result = diff(entries, live)
    assert result.problems == [], [str(p) for p in result.problems]
    return text, result.changes


def _written(h: Holding, text: str) -> bool:
    return f"acct-{h.customer.customer_id}" in text


def test_the_held_coupons_are_written_and_plan_finds_nothing_to_do(tmp_path: Path) -> None:
    ec2 = [("cloud_service_types", EC2)]
    data = CouponExport(
        quotas={None: {Q: quota()}, "r-1": {"RQ": quota("RQ")}},
        holdings=[
            _holding("c-1", [coupon("A", "5000.00", balance="3200.00"),
                             coupon("B", "1500.00", limits=ec2, effective="2026-02-01T00:00:00Z"),
                             coupon("U", "9.00", status=3, balance="0.00")]),
            _holding("c-2", [coupon("C", "80.00", cid="c-2", status=5, balance="0.00")]),
            _holding("c-3", [coupon("D", "30.00", cid="c-3")], TIANFU),
        ],
    )  # fmt: skip
    text, changes = _plan(tmp_path, data)
    assert changes == []
    assert '  quota: "Q-1"' in text
    assert '        - faceValue: "5000.00"' in text and "A: 3200.00 left, 1800.00 spent" in text
    assert "cloudServiceTypes: [hws.service.type.ec2]" in text
    assert 'validTime: "2026-02-01T00:00:00Z"' in text
    assert "9.00" not in text and "acct-c-2" not in text  # used and reclaimed: history
    assert "      reseller: tianfu-cloud" in text and 'quota: "RQ"' in text
    assert "exclusive" not in text.split("spec:")[1]


def test_a_coupon_the_manifests_cannot_describe_leaves_its_customer_out(tmp_path: Path) -> None:
    odd = coupon("X", "10.00", limits=[("order_types", "new")])
    data = CouponExport(quotas={None: {Q: quota()}}, holdings=[_holding("c-1", [odd])])
    account = ExportAccount("p-1", "(embedded)", None)
    text, _ = render(account, data, "../schemas", lambda _h: True)
    assert "acct-c-1" not in text
    assert account.warnings == [
        "customer c-1: coupon X has restrictions a manifest cannot state (order_types): not "
        "exported"
    ]


def test_merging_keeps_only_customers_not_declared_yet(tmp_path: Path) -> None:
    declared = from_yaml(tmp_path, (
        "apiVersion: partner-reconciler/v1\nkind: CustomerCoupons\nmetadata: {name: c}\nspec:\n"
        '  customers:\n    - {customer: acct-c-1, coupons: [{faceValue: "1.00", quota: q}]}\n'
    ))  # fmt: skip
    keep = undeclared(declared)
    assert not keep(_holding("c-1", []))
    assert keep(_holding("c-2", []))


SHAPES = st.tuples(
    st.sampled_from(["0.01", "100.00", "250.50"]),
    st.sampled_from([None, "2026-03-01T00:00:00Z"]),
    st.sampled_from([None, "2027-06-30T15:59:59Z"]),
    st.sampled_from([(), (EC2,), (EC2, "hws.service.type.ebs")]),
    st.sampled_from([1, 2, 3, 4, 5]),
)


@FAST
@given(st.lists(st.lists(SHAPES, max_size=4), min_size=1, max_size=3), st.booleans())
def test_export_then_plan_is_no_changes_on_generated_accounts(
    tmp_path_factory: pytest.TempPathFactory, holdings: list[list[Shape]], restricted: bool
) -> None:
    limits = (
        (QuotaLimit("cloud_service_types", (EC2, "hws.service.type.ebs")),) if restricted else ()
    )
    made = []
    for n, shapes in enumerate(holdings):
        coupons = []
        for m, (face, start, end, services, status) in enumerate(shapes):
            if restricted and not services:  # a coupon cannot be wider than its quota
                services = (EC2, "hws.service.type.ebs")  # noqa: PLW2901
            coupons.append(coupon(
                f"K{n}{m}", face, cid=f"c-{n}", status=status,
                effective=start or "2026-01-01T00:00:00Z", expire=end or "2027-12-31T15:59:59Z",
                limits=[("cloud_service_types", s) for s in services],
            ))  # fmt: skip
        made.append(_holding(f"c-{n}", coupons))
    data = CouponExport(quotas={None: {Q: quota(limits=limits)}}, holdings=made)
    folder = tmp_path_factory.mktemp("export")
    _, changes = _plan(folder, copy.deepcopy(data))
    assert changes == []
