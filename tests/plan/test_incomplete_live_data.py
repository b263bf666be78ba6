"""Live data missing a field a decision rests on (or carrying it with the wrong type) stops the
plan, naming the operation, the object and the field; never a default.

Each case is what an outside reliability run observed when the field was left out (the SDK
marks most response fields optional, so the real API may do it): a plan whose issue total rose
from 55,000 to 100,000, a reclaim of ``quota_ids [""]``, 14 spurious auto-renew enables, an
enable planned on an expired resource.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import WRITES, Env

ISSUED = "list_issued_coupon_quotas"
RESOURCES = "list_pay_per_use_customer_resources"
QUOTAS = "list_quota_coupons"
RECORDS = "list_coupon_quotas_records"
EXPIRED_ECS = "1cb1d44c-7ca5-5a32-8fa9-7c6670a1db44"  # huaxia-old-lms, expired (status 5)
OMIT = object()

CASES = [
    # (operation, field, value or OMIT, the object named in the error, what it says)
    (ISSUED, "quota_status", OMIT, "quotas[0] (quota_id ", "quota_status is missing"),
    (ISSUED, "balance", OMIT, "quotas[0] (quota_id ", "balance is missing"),
    (ISSUED, "parent_quota_id", OMIT, "quotas[0] (quota_id ", "parent_quota_id is missing"),
    (ISSUED, "quota_id", OMIT, "quotas[0] (indirect_partner_id ", "quota_id is missing"),
    (ISSUED, "quota_value", OMIT, "quotas[0] (quota_id ", "quota_value is missing"),
    (ISSUED, "balance", "lots", "quotas[0] (quota_id ", "balance is 'lots', not an amount"),
    (ISSUED, "total_count", "many", "the answer", "total_count is 'many', not an integer"),
    (RESOURCES, "expire_policy", OMIT, "data[0] (resource_id ", "expire_policy is missing"),
    (RESOURCES, "status", OMIT, "data[0] (resource_id ", "status is missing"),
    (RESOURCES, "status", True, "data[0] (resource_id ", "status is True, not an integer"),
    (RESOURCES, "is_main_resource", OMIT, "data[0] (resource_id ", "is_main_resource is missing"),
    (RESOURCES, "service_type_code", OMIT, "data[0]", "service_type_code is missing"),
    (RESOURCES, "data", "nothing", "the answer", "data is not a list"),
    (QUOTAS, "balance", OMIT, "quotas[0] (quota_id ", "balance is missing"),
    (QUOTAS, "quota_status", OMIT, "quotas[0] (quota_id ", "quota_status is missing"),
    ("list_sub_customers", "count", "many", "the answer", "count is 'many', not an integer"),
    ("list_sub_customers", "customer_id", OMIT, "customer_infos[0]", "customer_id is missing"),
    ("list_indirect_partners", "indirect_partner_id", OMIT, "indirect_partners[0]", "is missing"),
]


@pytest.mark.parametrize(
    ("operation", "field", "value", "where", "says"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{'omitted' if c[2] is OMIT else 'corrupt'}" for c in CASES],
)
def test_a_missing_or_mistyped_decision_field_stops_the_plan(
    env: Env, operation: str, field: str, value: Any, where: str, says: str
) -> None:
    folder = env.copy_examples()
    corrupt = {} if value is OMIT else {"value": value}
    emu = env.emulator()
    emu.add_fault(operation, "field", count=99, field=field, **corrupt)
    result = env.run("plan", str(folder))
    assert result.exit_code == 1, result.output
    assert f"({operation}) answered without a usable field" in result.output
    assert where in result.output
    assert says in result.output
    assert "stops instead of guessing" in result.output
    assert "Internal error" not in result.output
    assert not [c for c in emu.call_log() if c["operation"] in WRITES]


def test_apply_stops_before_any_write_when_live_data_is_incomplete(env: Env) -> None:
    folder = env.copy_examples()
    emu = env.emulator()
    emu.add_fault(ISSUED, "field", count=99, field="quota_status")
    result = env.run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1, result.output
    assert "quota_status is missing" in result.output
    assert not [c for c in emu.call_log() if c["operation"] in WRITES]


def test_only_the_named_objects_can_be_corrupted(env: Env) -> None:
    """An expired resource without its status: the plan stops instead of enabling auto-renew."""
    folder = env.copy_examples()
    emu = env.emulator()
    emu.add_fault(RESOURCES, "field", count=99, field="status", ids=[EXPIRED_ECS])
    result = env.run("plan", str(folder))
    assert result.exit_code == 1, result.output
    assert f"(resource_id {EXPIRED_ECS}): status is missing" in result.output
