"""Seed loading and validation, and persistence of the state file across emulators and processes."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import DEMO_SEED_PATH, Emulator, SeedError, StateFileError, VirtualClock

from . import demo
from .client import Api
from .conftest import DEMO_DOC

REPO = Path(__file__).resolve().parents[2]
PARTNER = {
    "domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
    "account_name": "p",
    "xaccount_type": "x",
}


def test_demo_seed_is_identical_to_the_example() -> None:
    assert DEMO_SEED_PATH.read_bytes() == (REPO / "examples" / "emulator-seed.yaml").read_bytes()


def test_demo_seed_shape(emu: Emulator) -> None:
    state = emu._store.state
    own = [c for c in state.customers.values() if c.indirect_partner_id is None]
    assert len(own) == 25
    assert {c.association_type for c in own} == {"1", "2"}
    assert sum(1 for c in own if c.account_manager is None) >= 5
    assert {c.agency_granted for c in own} == {True, False}
    assert len(state.account_managers) == 4
    assert len(state.resellers) == 3
    assert not any(r.exiting for r in state.resellers.values())
    mains = [r for r in state.resources.values() if not r.parent_resource_id]
    assert {r.status for r in mains} == {2, 4, 5}
    assert {r.expire_policy for r in mains} == {0, 1, 2, 3}
    assert {r.region_code for r in mains} == {
        "cn-north-4",
        "cn-east-3",
        "cn-south-1",
        "ap-southeast-1",
    }
    services = {r.service_type_code for r in state.resources.values()}
    assert services >= {f"hws.service.type.{s}" for s in ("ec2", "ebs", "rds", "obs", "vpc", "dcs")}
    parents = [q for q in state.quotas.values() if q.indirect_partner_id is None]
    assert sorted(q.quota_value for q in parents) == [
        Decimal("100000.00"),
        Decimal("200000.00"),
        Decimal("500000.00"),
    ]


def cust(**extra: Any) -> dict[str, Any]:
    return {"customer_id": "c", "account_name": "a", **extra}


def res(**extra: Any) -> dict[str, Any]:
    return {"customers": [cust(resources=[{"resource_id": "r", **extra}])]}


ISSUED_WITHOUT_PARENT = {
    "quota_id": "c", "parent_quota_id": "p", "indirect_partner_id": "r", "quota_value": "1.00",
}  # fmt: skip
BAD_RECORD = {
    "operation_type": "12", "indirect_partner_id": "r", "amount": "1.00",
    "operation_time": "2025-01-01T00:00:00Z",
}  # fmt: skip
BAD_SEEDS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-top-level", {"customerz": []}, "customerz: unknown field"),
    ("missing-required", {"customers": [{"account_name": "a"}]},
     "customers[0].customer_id: required"),
    ("bad-enum", {"customers": [cust(association_type="3")]},
     "customers[0].association_type: '3' is not one of '1', '2'"),
    ("unknown-manager", {"customers": [cust(account_manager="bob")]},
     "customers[0].account_manager: 'bob' is not listed in account_managers"),
    ("duplicate-customer", {"customers": [cust(), cust(account_name="b")]},
     "customers[1]: duplicate customer_id 'c'"),
    ("bad-time", {"customers": [cust(associated_on="2024-01-01")]},
     "customers[0].associated_on: expected a UTC timestamp"),
    ("bad-resource-status", res(status=1),
     "customers[0].resources[0].status: 1 is not one of 2, 3, 4, 5"),
    ("duplicate-resource", res(attached=[{"resource_id": "r"}]),
     "customers[0].resources[0].attached[0]: duplicate resource_id 'r'"),
    ("attached-has-no-policy", res(attached=[{"resource_id": "s", "expire_policy": 3}]),
     "customers[0].resources[0].attached[0].expire_policy: unknown field"),
    ("float-amount", {"quotas": [{"quota_id": "q", "quota_value": 100.5}]},
     "quotas[0].quota_value: expected an amount with at most 2 decimals, written as a string"),
    ("balance-over-value",
     {"quotas": [{"quota_id": "q", "quota_value": "1.00", "balance": "1.01"}]},
     "quotas[0].balance: greater than quota_value"),
    ("negative", {"quotas": [{"quota_id": "q", "quota_value": "-1.00"}]},
     "quotas[0].quota_value: must not be negative"),
    ("issued-without-parent", {"issued_quotas": [ISSUED_WITHOUT_PARENT]},
     "issued_quotas[0].parent_quota_id: no distributor quota 'p'"),
    ("bad-bool",
     {"resellers": [{"indirect_partner_id": "r", "account_name": "x", "exiting": "no"}]},
     "resellers[0].exiting: expected true or false"),
    ("issue-mode", {"partner": {**PARTNER, "issue_mode": "merge"}},
     "partner.issue_mode: 'merge' is not one of 'new_quota', 'top_up'"),
    ("record-type", {"records": [BAD_RECORD]},
     "records[0].operation_type: '12' is not one of '10', '11'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "problem"), [b[1:] for b in BAD_SEEDS], ids=[b[0] for b in BAD_SEEDS]
)
def test_bad_seeds_name_the_entry(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(SeedError) as info:
        Emulator(seed=doc)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once() -> None:
    doc = {"customers": [{"account_name": "a"}, {"customer_id": "c", "account_name": 5}], "x": 1}
    with pytest.raises(SeedError) as info:
        Emulator(seed=doc)
    assert len(info.value.problems) == 3


@pytest.mark.parametrize(
    ("content", "problem"),
    [("customers: [", "not valid YAML or JSON"), ("- a\n- b\n", "must be a mapping")],
    ids=["broken-yaml", "a-list"],
)
def test_bad_seed_files(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(content)
    with pytest.raises(SeedError, match=problem) as info:
        Emulator(seed=path)
    assert info.value.source == str(path)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read seed file"):
        Emulator(seed=tmp_path / "absent.yaml")


def test_json_seed_file_with_exact_amounts(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps({"partner": PARTNER, "quotas": [{"quota_id": "q", "quota_value": "10.50"}]})
    )
    emu = Emulator(seed=path)
    assert emu._store.state.quotas["q"].balance == Decimal("10.50")


def test_no_seed_means_the_partner_with_default_keys(clock: VirtualClock) -> None:
    emu = Emulator(clock=clock)
    assert Api(emu).post("/v2/partners/sub-customers/query", {}).json == {
        "customer_infos": [],
        "count": 0,
    }


# --- persistence ------------------------------------------------------------------------------
def test_two_emulators_on_one_file_see_each_others_writes(
    tmp_path: Path, clock: VirtualClock
) -> None:
    path = tmp_path / "state.json"
    first = Emulator(clock=clock, state_file=path, seed=DEMO_DOC)
    second = Emulator(clock=clock, state_file=path)  # no seed: the file already exists
    reply = Api(first).post(
        "/v2/partners/coupon-quotas/indirect-partner-adjust",
        {
            "quota_id": demo.QUOTA_MAIN,
            "indirect_partner_ids": [demo.TIANFU],
            "quota_amount": "10.00",
        },
    )
    assert reply.status == 200
    assert second._mutate(lambda s: s.quotas[demo.QUOTA_MAIN].balance) == Decimal("444990.00")
    second.set_account_manager(demo.XINGHE, None)
    info = Api(first).post("/v2/partners/sub-customers/query", {"customer_id": demo.XINGHE}).json
    assert "account_managers" not in info["customer_infos"][0]
    customer = Api(first).as_customer(demo.XINGHE)
    customer.emu = second  # temporary credentials are persisted too
    assert customer.post("/v2/orders/suscriptions/resources/query", {}).status == 200
    assert len(second.call_log()) == 4


def test_seed_is_only_applied_to_an_absent_or_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("")
    Emulator(state_file=path, seed=DEMO_DOC)
    assert len(json.loads(path.read_text())["state"]["customers"]) == 29
    Emulator(state_file=path, seed={"partner": PARTNER})
    assert len(json.loads(path.read_text())["state"]["customers"]) == 29


def test_corrupt_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(StateFileError, match="not a readable emulator state file"):
        Emulator(state_file=path)


def test_call_log_is_capped(monkeypatch: pytest.MonkeyPatch, api: Api) -> None:
    from reconciler.emulator import pipeline

    monkeypatch.setattr(pipeline, "CALL_LOG_CAP", 3)
    for _ in range(5):
        api.get("/nope")
    assert [c["seq"] for c in api.emu.call_log()] == [3, 4, 5]


def test_another_process_sees_and_changes_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    emu = Emulator(state_file=path, seed=DEMO_DOC)
    script = (
        "import sys\n"
        "from reconciler.emulator import Emulator\n"
        "emu = Emulator(state_file=sys.argv[1])\n"
        f"emu.spend_quota('{demo.CHILD_TIANFU}', '100.00')\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, cwd=REPO, timeout=60)
    assert emu._mutate(lambda s: s.quotas[demo.CHILD_TIANFU].balance) == Decimal("29900.00")
